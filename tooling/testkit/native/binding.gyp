{
  "targets": [
    {
      "target_name": "fdprobe",
      "type": "executable",
      "sources": ["src/fdprobe.c"]
    },
    {
      "target_name": "pollfaults",
      "conditions": [
        ["OS!='linux'", {"type": "none"}],
        ["OS=='linux'", {
          "type": "shared_library",
          "sources": ["src/faults.c"],
          "cflags": ["-Wall", "-Wextra", "-fvisibility=hidden"],
          "libraries": ["-ldl", "-lpthread"]
        }]
      ]
    },
    {
      "target_name": "poll_testkit",
      "sources": ["src/testkit.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra"],
      "conditions": [
        ["OS=='linux'", {
          "libraries": ["-ldl", "-lpthread"]
        }]
      ]
    }
  ]
}
