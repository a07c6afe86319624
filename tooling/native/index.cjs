'use strict';
// For binding.gyp: "<!(node -p \"require('@poll/native-glue').include_dir\")"
module.exports = { include_dir: require('node:path').join(__dirname, 'include') };
