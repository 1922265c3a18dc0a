/**
 * The one place that imports cdktf and its providers: constructs use these,
 * the model and the renderer never do.
 *
 * `addCustomSynthesis` is how cdktf's own TerraformAsset writes files into the
 * stack's synth folder; cdktf exports it from its synthesizer module only.
 */
export { Annotations, Aspects, DataResource, Lazy, TerraformProvider, TerraformStack, Token, Tokenization } from 'cdktf';
export type { IAspect, ISynthesisSession } from 'cdktf';
export type { IConstruct } from 'constructs';
export { addCustomSynthesis } from 'cdktf/lib/synthesize/synthesizer';
export { NullProvider } from '@cdktf/provider-null/lib/provider';
export { Resource as NullResource } from '@cdktf/provider-null/lib/resource';
