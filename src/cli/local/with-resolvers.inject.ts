/**
 * Injected by esbuild into the CLI bundle, where `Promise.withResolvers` is defined as this function
 * (Node 20 lacks it; aws-local-stepfunctions 3 calls it). No global is changed.
 */
export function __cdkAiPipelineWithResolvers<T>(): {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
} {
  let resolve!: (value: T | PromiseLike<T>) => void;
  let reject!: (reason?: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
