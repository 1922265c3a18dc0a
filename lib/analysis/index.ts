export * from './types';
export { RulesetEvaluator } from './evaluator';
