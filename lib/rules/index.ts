export * from './match';
export * from './target';
export * from './slot';
export * from './part-rules';
export * from './part-host';
