// A tiny program built outside libmezo's own build, proving the package works:
// it includes the umbrella header, links mezo::mezo (or pkg-config's flags),
// checks that the library it runs with is the version of the headers it was
// compiled with, and trains a quadratic.
#include <cstdio>
#include <mezo/mezo.hpp>
#include <vector>

int main() {
  if (mezo::version() != MEZO_VERSION) {
    std::printf("headers are libmezo %d, the library loaded is %d\n", MEZO_VERSION,
                mezo::version());
    return 1;
  }
  std::vector<float> theta = {1.0f, -2.0f, 0.5f};
  mezo::ParamSet params;
  params.add("theta", theta.data(), theta.size());
  const auto loss = [&] {
    float s = 0;
    for (float v : theta) s += v * v;
    return s;
  };
  mezo::ZoSgd optimizer({.lr = 0.05f, .eps = 1e-3f});
  const mezo::SeedSchedule seeds(1);
  const float before = loss();
  for (int t = 0; t < 500; ++t) mezo::step(params, optimizer, loss, seeds.seed_for_step(t));
  const float after = loss();
  std::printf("libmezo %s: loss %.4f -> %.6f\n", MEZO_VERSION_STRING, before, after);
  return after < 0.01f * before ? 0 : 1;
}
