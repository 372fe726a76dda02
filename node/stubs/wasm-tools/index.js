'use strict';
throw new Error('@napi-rs/wasm-tools is stubbed out in this project (node/stubs/): only native builds are supported');
