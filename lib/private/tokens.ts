/**
 * Token checks with cdktf's own API, for constructs and provisioning (the
 * model and the renderer never see tokens: they refuse anything that is not
 * a literal). A literal `${` or `%{` would be evaluated by Terraform as a
 * template, so strings that reach the Terraform configuration are checked
 * for them outside their tokens.
 */
import { Token, Tokenization } from './cdktf';

/** True when `value` is (or contains) an unresolved cdktf token. */
export function isUnresolved(value: unknown): boolean {
  try {
    return Token.isUnresolved(value);
  } catch {
    return false;
  }
}

/** The literal text of a string outside its tokens. */
export function literalParts(value: string): string[] {
  if (!isUnresolved(value)) return [value];
  return Tokenization.reverseString(value).literals.map((l) => (typeof l === 'string' ? l : ''));
}

/** True when the literal text of `value` holds a Terraform template sequence (`${` or `%{`). */
export function hasTemplateSequence(value: string): boolean {
  return literalParts(value).some((l) => /[$%]\{/.test(l));
}
