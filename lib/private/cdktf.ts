/**
 * The one place that imports the framework and its providers: constructs use
 * these, the model and the renderer never do.
 *
 * One source, two builds: as written, this module is the cdktf build. The CDK
 * Terrain build (`npx projen pack:cdktn`, projenrc/cdktn.ts) compiles the same
 * lib/ with the framework module of every import below (cdktf, cdktf/lib/...)
 * and the value of FRAMEWORK swapped for cdktn, so that package is typed
 * against cdktn's own declarations and loads cdktn only. No other file may
 * import the framework.
 *
 * `addCustomSynthesis` is how the framework's own TerraformAsset writes files
 * into the stack's synth folder; it is exported from its synthesizer module only.
 */
import type { Construct } from 'constructs';
export { Annotations, Aspects, DataResource, Lazy, TerraformProvider, TerraformStack, Token, Tokenization } from 'cdktf';
export type { IAspect, ISynthesisSession, ITerraformDependable } from 'cdktf';
export type { IConstruct } from 'constructs';
export { addCustomSynthesis } from 'cdktf/lib/synthesize/synthesizer';

/** The framework this build is for: cdktf (CDK for Terraform) or cdktn (CDK Terrain). */
export const FRAMEWORK = 'cdktf' as 'cdktf' | 'cdktn';

/** The installer hosts use when `installer` is not set: CDK Terrain has no null provider package. */
export const DEFAULT_INSTALLER: 'NULL_RESOURCE' | 'TERRAFORM_DATA' = FRAMEWORK === 'cdktn' ? 'TERRAFORM_DATA' : 'NULL_RESOURCE';

function configError(message: string): Error {
  const err = new Error(message);
  err.name = 'FirewallConfigError';
  return err;
}

/**
 * `@cdktf/provider-null` is an optional peer: it is loaded only when a host
 * deploys with `Installer.NULL_RESOURCE`, so apps without it load the library.
 * CDK Terrain has no such package (`@cdktn/provider-null` does not exist).
 */
function providerNull(): { NullProvider: any; NullResource: any } {
  if (FRAMEWORK === 'cdktn') {
    throw configError('installer is NULL_RESOURCE (null_resource), which needs a null provider package, and CDK Terrain has none '
      + '(there is no @cdktn/provider-null). Use installer: Installer.TERRAFORM_DATA (the default with cdktn), '
      + 'Terraform\'s built-in terraform_data, which needs no provider');
  }
  try {
    return {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      NullProvider: require('@cdktf/provider-null/lib/provider').NullProvider,
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      NullResource: require('@cdktf/provider-null/lib/resource').Resource,
    };
  } catch (e) {
    throw configError('installer NULL_RESOURCE needs the package @cdktf/provider-null (npm install @cdktf/provider-null), '
      + 'or use installer: Installer.TERRAFORM_DATA, which needs no provider');
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
