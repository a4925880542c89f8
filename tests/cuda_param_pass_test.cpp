// The CUDA parameter pass against its CPU twin: same z, same bits. Needs a GPU;
// without one every case skips and says so.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cstring>
#include <mezo/gpu.hpp>
#include <mezo/mezo.hpp>
#include <random>
#include <string>
#include <vector>

#include "cuda_test_support.hpp"

namespace {

class DeviceBuffer {
 public:
  explicit DeviceBuffer(const std::vector<float>& host) : size_(host.size()) {
    EXPECT_EQ(cudaMalloc(&ptr_, size_ * 4), cudaSuccess);
    EXPECT_EQ(cudaMemcpy(ptr_, host.data(), size_ * 4, cudaMemcpyHostToDevice), cudaSuccess);
  }
  ~DeviceBuffer() { cudaFree(ptr_); }
  float* get() const { return static_cast<float*>(ptr_); }
  std::vector<float> download() const {
    std::vector<float> host(size_);
    EXPECT_EQ(cudaMemcpy(host.data(), ptr_, size_ * 4, cudaMemcpyDeviceToHost), cudaSuccess);
    return host;
  }

 private:
  void* ptr_ = nullptr;
  std::size_t size_;
};

std::vector<float> random_weights(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> d(0.0f, 0.02f);
  std::vector<float> w(n);
  for (float& v : w) v = d(gen);
  return w;
}

TEST(CudaParamPass, MatchesTheCpuBitForBit) {
  REQUIRE_GPU();
  for (auto distribution : {mezo::ZDistribution::gaussian, mezo::ZDistribution::rademacher}) {
    const auto weight0 = random_weights(1000003, 1), bias0 = random_weights(77, 2);
    auto weight_cpu = weight0, bias_cpu = bias0;
    DeviceBuffer weight_gpu(weight0), bias_gpu(bias0);
    mezo::ParamSet cpu, gpu;
    cpu.add("w", weight_cpu.data(), weight_cpu.size());
    cpu.add("b.bias", bias_cpu.data(), bias_cpu.size());
    gpu.add("w", weight_gpu.get(), weight0.size(), mezo::Device::cuda);
    gpu.add("b.bias", bias_gpu.get(), bias0.size(), mezo::Device::cuda);
    // 40 terms: more than one launch's worth, applied in order.
    std::vector<mezo::ZTerm> terms;
    for (int i = 0; i < 40; ++i)
      terms.push_back({std::uint64_t(100 + i), 1e-4f * float(i % 7 - 3)});
    mezo::ParamPass pass;
    pass.restore = mezo::ZTerm{7, 1e-3f};
    pass.decay = 1e-3f;
    pass.terms = terms;
    mezo::GpuContext context;
    const mezo::CounterPerturbation perturbation(distribution, {.gpu = &context});
    perturbation.apply(cpu, pass);
    perturbation.apply(gpu, pass);
    EXPECT_EQ(std::memcmp(weight_gpu.download().data(), weight_cpu.data(), weight_cpu.size() * 4),
              0);
    EXPECT_EQ(std::memcmp(bias_gpu.download().data(), bias_cpu.data(), bias_cpu.size() * 4), 0);
  }
}

TEST(CudaParamPass, StepWithoutJournalMatchesTheCpu) {
  REQUIRE_GPU();
  const auto weight0 = random_weights(300000, 3);
  auto weight_cpu = weight0;
  DeviceBuffer weight_gpu(weight0);
  mezo::ParamSet cpu, gpu;
  cpu.add("w", weight_cpu.data(), weight_cpu.size());
  gpu.add("w", weight_gpu.get(), weight0.size(), mezo::Device::cuda);
  mezo::GpuContext context;
  mezo::ZoSgd opt_cpu({.lr = 1e-3f, .eps = 1e-3f});
  mezo::ZoSgd opt_gpu({.lr = 1e-3f, .eps = 1e-3f},
                      std::make_shared<mezo::CounterPerturbation>(mezo::ZDistribution::gaussian,
                                                                  mezo::ExecutionOptions{.gpu = &context}));
  int calls = 0;
  const auto loss = [&] { return float(++calls % 3); };  // deterministic, non-zero g
  const auto r_cpu = mezo::step(cpu, opt_cpu, loss, 5, {.exact_restore = false});
  calls = 0;
  const auto r_gpu = mezo::step(gpu, opt_gpu, loss, 5, {.exact_restore = false});
  EXPECT_EQ(r_cpu.projected_grad, r_gpu.projected_grad);
  EXPECT_EQ(std::memcmp(weight_gpu.download().data(), weight_cpu.data(), weight_cpu.size() * 4), 0);
}

TEST(CudaParamPass, InPlaceExactRestoreIsUnsupportedOnTheDeviceWithAClearError) {
  REQUIRE_GPU();
  DeviceBuffer w(random_weights(10, 4));
  mezo::ParamSet gpu;
  gpu.add("w", w.get(), 10, mezo::Device::cuda);
  mezo::GpuContext context;
  mezo::ZoSgd opt({}, std::make_shared<mezo::CounterPerturbation>(
                          mezo::ZDistribution::gaussian, mezo::ExecutionOptions{.gpu = &context}));
  try {
    mezo::step(
        gpu, opt, [] { return 1.0f; }, 1);
    FAIL() << "expected mezo::Error";
  } catch (const mezo::Error& e) {
    EXPECT_EQ(e.code(), mezo::ErrorCode::unsupported);
    EXPECT_NE(std::string(e.what()).find("DeferredPerturbation"), std::string::npos) << e.what();
  }
}

TEST(CudaParamPass, DeviceMemoryWithoutAGpuContextIsAClearError) {
  REQUIRE_GPU();
  DeviceBuffer w(random_weights(10, 5));
  mezo::ParamSet gpu;
  gpu.add("w", w.get(), 10, mezo::Device::cuda);
  try {
    mezo::perturb_inplace(gpu, *mezo::gaussian_perturbation(), 1, 1e-3f);
    FAIL() << "expected mezo::Error";
  } catch (const mezo::Error& e) {
    EXPECT_EQ(e.code(), mezo::ErrorCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("ExecutionOptions::gpu"), std::string::npos) << e.what();
  }
}

}  // namespace

namespace {

TEST(CudaParamPass, Bf16PassMatchesTheCpuBitForBit) {
  REQUIRE_GPU();
  const auto source = random_weights(100003, 6);
  std::vector<std::uint16_t> cpu_bits(source.size());
  for (std::size_t i = 0; i < source.size(); ++i) cpu_bits[i] = mezo::float_to_bf16(source[i]);
  void* device = nullptr;
  ASSERT_EQ(cudaMalloc(&device, cpu_bits.size() * 2), cudaSuccess);
  ASSERT_EQ(cudaMemcpy(device, cpu_bits.data(), cpu_bits.size() * 2, cudaMemcpyHostToDevice),
            cudaSuccess);
  mezo::ParamSet cpu, gpu;
  cpu.add_bf16("w", cpu_bits.data(), cpu_bits.size());
  gpu.add_bf16("w", static_cast<std::uint16_t*>(device), cpu_bits.size(), mezo::Device::cuda);
  const mezo::ZTerm terms[] = {{21, 1e-3f}, {22, -2e-3f}};
  mezo::ParamPass pass;
  pass.restore = mezo::ZTerm{20, -1e-3f};
  pass.decay = 1e-2f;
  pass.terms = terms;
  mezo::GpuContext context;
  const mezo::CounterPerturbation perturbation(mezo::ZDistribution::gaussian, {.gpu = &context});
  perturbation.apply(cpu, pass);
  perturbation.apply(gpu, pass);
  std::vector<std::uint16_t> gpu_bits(cpu_bits.size());
  ASSERT_EQ(cudaMemcpy(gpu_bits.data(), device, gpu_bits.size() * 2, cudaMemcpyDeviceToHost),
            cudaSuccess);
  cudaFree(device);
  EXPECT_EQ(gpu_bits, cpu_bits);
}

}  // namespace
