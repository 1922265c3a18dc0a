/**
 * The one place that imports cdktf and its providers: constructs use these,
 * the model and the renderer never do.
 *
 * `addCustomSynthesis` is how cdktf's own TerraformAsset writes files into the
 * stack's synth folder; cdktf exports it from its synthesizer module only.
 */
import type { Construct } from 'constructs';
export { Annotations, Aspects, DataResource, Lazy, TerraformProvider, TerraformStack, Token, Tokenization } from 'cdktf';
export type { IAspect, ISynthesisSession, ITerraformDependable } from 'cdktf';
export type { IConstruct } from 'constructs';
export { addCustomSynthesis } from 'cdktf/lib/synthesize/synthesizer';

/**
 * `@cdktf/provider-null` is an optional peer: it is loaded only when a host
 * deploys with `Installer.NULL_RESOURCE`, so apps without it load the library.
 */
function providerNull(): { NullProvider: any; NullResource: any } {
  try {
    return {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      NullProvider: require('@cdktf/provider-null/lib/provider').NullProvider,
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      NullResource: require('@cdktf/provider-null/lib/resource').Resource,
    };
  } catch (e) {
    const err = new Error('installer NULL_RESOURCE needs the package @cdktf/provider-null (npm install @cdktf/provider-null), '
      + 'or use installer: Installer.TERRAFORM_DATA, which needs no provider');
    err.name = 'FirewallConfigError';
    throw err;
  }
}

/** A `null_resource` (loads @cdktf/provider-null). */
export function newNullResource(scope: Construct, id: string, config: object): any {
  return new (providerNull().NullResource)(scope, id, config);
}

/** The `null` provider (loads @cdktf/provider-null). */
export function newNullProvider(scope: Construct, id: string): any {
  return new (providerNull().NullProvider)(scope, id);
}
