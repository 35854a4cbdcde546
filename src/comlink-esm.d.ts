/**
 * comlink 4 has no `exports` map: `import 'comlink'` in Node loads its UMD
 * build, and the Node adapter's default export is then typed as a namespace.
 * src/share.ts imports the ESM builds by path; these declarations give those
 * paths comlink's own types.
 */
declare module 'comlink/dist/esm/comlink.mjs' {
  export * from 'comlink';
}

declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink';
  import type { MessagePort } from 'node:worker_threads';
  export default function nodeEndpoint(port: MessagePort): Endpoint;
}
