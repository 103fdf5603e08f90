// Grid constants of the step kernels (prepended after spectral_common.wgsl), fixed when the
// pipeline is created so index arithmetic folds into shifts and load loops have constant trip
// counts. The same values are in Params for the diagnostics kernels.
override NX: u32;
override NY: u32;
override NCOLS: u32;
override LOG_NY: u32;
override LOG_M: u32;
override FIELDS: u32;
override MODEL: u32;
