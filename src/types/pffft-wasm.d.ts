// Types for the parts of @echogarden/pffft-wasm (an Emscripten build of PFFFT, no bundled types)
// that src/spectral/pffft.ts uses.
declare module '@echogarden/pffft-wasm/simd' {
  export interface PffftWasm {
    HEAPF32: Float32Array;
    _pffft_new_setup(n: number, kind: number): number;
    _pffft_destroy_setup(setup: number): void;
    _pffft_aligned_malloc(bytes: number): number;
    _pffft_aligned_free(pointer: number): void;
    _pffft_transform_ordered(
      setup: number,
      input: number,
      output: number,
      work: number,
      direction: number,
    ): void;
  }
  const create: () => Promise<PffftWasm>;
  export default create;
}
