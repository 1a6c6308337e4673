{
  "targets": [{
    "target_name": "fuse",
    "include_dirs": [
      "<!(node -e \"require('napi-macros')\")",
    ],
    "cflags": [
      "<!@(pkg-config --cflags fuse3)",
      "-g",
      "-O3",
      "-Wall"
    ],
    "libraries": [
      "<!@(pkg-config --libs fuse3)",
    ],
    "sources": [
      "fuse-native.c"
    ],
  }]
}
