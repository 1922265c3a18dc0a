/**
 * The one place that imports cdktf: constructs use these, the model and the
 * renderer never do.
 *
 * `addCustomSynthesis` is how cdktf's own TerraformAsset writes files into the
 * stack's synth folder; cdktf exports it from its synthesizer module only.
 */
export { Annotations, TerraformStack } from 'cdktf';
export type { ISynthesisSession } from 'cdktf';
export { addCustomSynthesis } from 'cdktf/lib/synthesize/synthesizer';
