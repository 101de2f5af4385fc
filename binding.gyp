{
  "targets": [
    {
      "target_name": "udp_ts",
      "sources": ["native/udp_ts.c", "native/clock.c", "native/unix_dgram.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
