import { cdk } from 'projen';

/** Options of {@link CdktfConstructLibrary}. */
export interface CdktfConstructLibraryOptions extends cdk.ConstructLibraryOptions {
  /** The cdktf peer range, e.g. `^0.21.0`. */
  readonly cdktfVersion: string;
  /** The constructs peer range, e.g. `^10.4.2`. */
  readonly constructsVersion: string;
}

/**
 * A jsii construct library for CDK for Terraform: what projen's
 * `cdktf.ConstructLibraryCdktf` does (peers on cdktf and constructs, the
 * `cdktf` keyword), on projen's `cdk.ConstructLibrary` directly.
 *
 * projen deprecated `ConstructLibraryCdktf` ("CDKTF has been archived by
 * HashiCorp. Use ConstructLibraryCdktn"), but `ConstructLibraryCdktn` makes the
 * package a cdktn package (peers cdktn and constructs ^10.7), and this
 * repository's root package must stay the cdktf package for existing users;
 * the cdktn package is built from the same sources by projenrc/cdktn.ts.
 */
export class CdktfConstructLibrary extends cdk.ConstructLibrary {
  public constructor(options: CdktfConstructLibraryOptions) {
    super(options);
    this.addPeerDeps(`constructs@${options.constructsVersion}`, `cdktf@${options.cdktfVersion}`);
    this.addKeywords('cdktf');
  }
}
