{
  "targets": [
    {
      "target_name": "poll_probed",
      "sources": ["src/probed.cc"],
      "include_dirs": [
        "src",
        "../../native/src",
        "../../native/include",
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS", "POLL_TEARDOWN_PROBE"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra"],
      "libraries": ["-ldl", "-lpthread"]
    }
  ]
}
