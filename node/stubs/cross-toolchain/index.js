'use strict';
throw new Error('@napi-rs/cross-toolchain is stubbed out in this project (node/stubs/): only native builds are supported');
