// Writes the Go pprof fixtures of packages/core/test/fixtures: a CPU profile (go-cpu.pb.gz) and a
// heap profile (go-heap.pb.gz) of a small deterministic workload, using runtime/pprof.
//
//	go run ./packages/core/scripts/gen-go-fixtures packages/core/test/fixtures
//
// The matching `go tool pprof -top` text is written by packages/core/scripts/gen-go-top.sh.
package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"time"
)

// mix is small enough to be inlined into its callers: its frames appear as inlined lines.
func mix(x uint64) uint64 { return x*6364136223846793005 + 1442695040888963407 }

//go:noinline
func hashLoop(n int) [32]byte {
	var sum [32]byte
	buf := make([]byte, 64)
	for i := 0; i < n; i++ {
		buf[i%64] = byte(mix(uint64(i)))
		sum = sha256.Sum256(buf)
	}
	return sum
}

//go:noinline
func sortLoop(n int) int {
	total := 0
	for r := 0; r < n; r++ {
		xs := make([]int, 512)
		var x uint64 = uint64(r)
		for i := range xs {
			x = mix(x)
			xs[i] = int(x >> 40)
		}
		sort.Ints(xs)
		total += xs[0]
	}
	return total
}

//go:noinline
func recurse(depth int, n int) uint64 {
	if depth == 0 {
		var x uint64
		for i := 0; i < n; i++ {
			x = mix(x)
		}
		return x
	}
	return recurse(depth-1, n) + 1
}

var keep [][]byte

//go:noinline
func allocSmall(n int) {
	for i := 0; i < n; i++ {
		keep = append(keep, make([]byte, 128))
	}
}

//go:noinline
func allocLarge(n int) {
	for i := 0; i < n; i++ {
		keep = append(keep, make([]byte, 64*1024))
	}
}

func main() {
	dir := os.Args[1]
	runtime.MemProfileRate = 4096

	cpu, err := os.Create(filepath.Join(dir, "go-cpu.pb.gz"))
	if err != nil {
		panic(err)
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		panic(err)
	}
	deadline := time.Now().Add(1500 * time.Millisecond)
	var sink uint64
	for time.Now().Before(deadline) {
		h := hashLoop(2000)
		sink += uint64(h[0])
		sink += uint64(sortLoop(20))
		sink += recurse(12, 200000)
	}
	pprof.StopCPUProfile()
	cpu.Close()

	allocSmall(20000)
	allocLarge(100)
	runtime.GC()
	heap, err := os.Create(filepath.Join(dir, "go-heap.pb.gz"))
	if err != nil {
		panic(err)
	}
	if err := pprof.WriteHeapProfile(heap); err != nil {
		panic(err)
	}
	heap.Close()
	fmt.Println("kept", len(keep), "sink", sink%10)
}
