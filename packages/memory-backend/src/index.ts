export * from './api.js';
export { createWasmBackend } from './wasm-backend.js';
export { createNativeBackend } from './native-backend.js';
export { attachBackend } from './attach.js';
