#!/bin/sh
# Writes `go tool pprof -top` text next to the Go fixtures (test/fixtures/*.top.txt); the pprof
# tests compare our totals and per-function self values with it. Units are pinned (ns, B) so the
# numbers are exact integers.
set -eu
cd "$(dirname "$0")/../test/fixtures"
top() { go tool pprof -top -nodefraction=0 -nodecount=1000 "$@"; }
top -sample_index=cpu -unit=ns go-cpu.pb.gz > go-cpu.top.txt
top -sample_index=inuse_space -unit=B go-heap.pb.gz > go-heap.inuse_space.top.txt
top -sample_index=alloc_objects go-heap.pb.gz > go-heap.alloc_objects.top.txt
