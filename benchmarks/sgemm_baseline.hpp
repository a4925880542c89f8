// The ceiling a model benchmark's GFLOP/s is read against: an Eigen sgemm in
// the same binary, on the backend the forward uses (OpenBLAS when built with it).
#pragma once

#include <benchmark/benchmark.h>

#include <Eigen/Core>

namespace bench {

inline void BM_Sgemm(benchmark::State& state) {
  const Eigen::Index n = state.range(0);
  Eigen::MatrixXf a = Eigen::MatrixXf::Random(n, n), b = Eigen::MatrixXf::Random(n, n), c(n, n);
  for (auto _ : state) {
    c.noalias() = a * b;
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOP_per_s"] =
      benchmark::Counter(2.0 * n * n * n / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace bench
