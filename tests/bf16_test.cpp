// bfloat16 storage: the fp32 <-> bf16 conversions against an independent
// arithmetic reference, bf16 views in a ParamSet, and CPU parameter passes
// over bf16 views (widen, run the fp32 pass, round once per element).
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <mezo/mezo.hpp>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using mezo_test::bits_of;
using mezo_test::error_of;
using mezo_test::random_f32;

float float_of(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// The bf16 value with these bits, computed arithmetically (not by shifting):
// sign · 2^(e − 127) · (1 + m / 128), or sign · 2^−126 · m / 128 for e = 0,
// ±inf for e = 255 (NaNs are not asked for).
double bf16_value(std::uint16_t b) {
  const int e = (b >> 7) & 0xFF;
  const int m = b & 0x7F;
  const double sign = (b & 0x8000) ? -1.0 : 1.0;
  if (e == 0xFF && m == 0) return sign * std::numeric_limits<double>::infinity();
  if (e == 0) return sign * std::ldexp(static_cast<double>(m), -126 - 7);
  return sign * std::ldexp(128.0 + m, e - 127 - 7);
}

// Reference fp32 → bf16 for non-NaN inputs, by arithmetic in double: the
// value is divided by its bf16 spacing (a power of two, so exactly), rounded
// to an integer with nearbyint (the default mode is ties to even, and an even
// multiple of the spacing is a bf16 with an even last mantissa bit), scaled
// back, and anything at or beyond 2^128 is infinity. The resulting double is
// a bf16 value, so converting it to float is exact and its top half is the
// answer.
std::uint16_t reference_bf16(float x) {
  if (std::isinf(x)) return x > 0 ? 0x7F80 : 0xFF80;
  const double v = static_cast<double>(x);
  int e = 0;
  std::frexp(v, &e);  // |v| in [2^(e−1), 2^e)
  const int spacing_exp = std::max(e - 8, -133);
  double r = std::ldexp(std::nearbyint(std::ldexp(v, -spacing_exp)), spacing_exp);
  if (std::fabs(r) >= std::ldexp(1.0, 128)) {
    r = std::signbit(v) ? -std::numeric_limits<double>::infinity()
                        : std::numeric_limits<double>::infinity();
  }
  if (r == 0.0) r = std::signbit(v) ? -0.0 : 0.0;
  const float rf = static_cast<float>(r);
  EXPECT_EQ(static_cast<double>(rf), r) << "reference produced a non-fp32 value for " << x;
  const std::uint32_t rb = bits_of(rf);
  EXPECT_EQ(rb & 0xFFFFu, 0u) << "reference produced a non-bf16 value for " << x;
  return static_cast<std::uint16_t>(rb >> 16);
}

bool is_bf16_nan(std::uint16_t b) { return (b & 0x7F80) == 0x7F80 && (b & 0x007F) != 0; }

// --- conversions -----------------------------------------------------------

TEST(Bf16Convert, WideningIsExactForAllPatterns) {
  for (std::uint32_t b = 0; b < 65536; ++b) {
    const float f = mezo::bf16_to_float(static_cast<std::uint16_t>(b));
    ASSERT_EQ(bits_of(f), b << 16) << "pattern 0x" << std::hex << b;
    if (!is_bf16_nan(static_cast<std::uint16_t>(b))) {
      ASSERT_EQ(static_cast<double>(f), bf16_value(static_cast<std::uint16_t>(b)))
          << "pattern 0x" << std::hex << b;
    }
  }
}

TEST(Bf16Convert, RoundTripOfAllPatterns) {
  int nans = 0;
  for (std::uint32_t b = 0; b < 65536; ++b) {
    const auto bits = static_cast<std::uint16_t>(b);
    const std::uint16_t back = mezo::float_to_bf16(mezo::bf16_to_float(bits));
    if (is_bf16_nan(bits)) {
      ++nans;
      ASSERT_TRUE(is_bf16_nan(back)) << "NaN 0x" << std::hex << b << " became 0x" << back;
      ASSERT_EQ(back & 0x8000, bits & 0x8000) << "sign of NaN 0x" << std::hex << b;
      ASSERT_NE(back & 0x0040, 0) << "NaN 0x" << std::hex << b << " not quietened";
      ASSERT_EQ(back, bits | 0x0040) << "payload of NaN 0x" << std::hex << b;
    } else {
      ASSERT_EQ(back, bits) << "pattern 0x" << std::hex << b;
    }
    const float r = mezo::round_to_bf16(mezo::bf16_to_float(bits));
    if (is_bf16_nan(bits)) {
      ASSERT_TRUE(std::isnan(r));
    } else {
      ASSERT_EQ(bits_of(r), b << 16);
    }
  }
  EXPECT_EQ(nans, 2 * 127);
}

// Hand-worked cases, each checked against both the library and the reference
// (so a reference bug shows up too).
TEST(Bf16Convert, KnownValues) {
  struct Case {
    std::uint32_t in;
    std::uint16_t out;
    const char* what;
  };
  const Case cases[] = {
      {0x3F800000u, 0x3F80, "1.0"},
      {0x3F808000u, 0x3F80, "1 + 2^-8: tie between 1 and 1 + 2^-7, to even (down)"},
      {0x3F818000u, 0x3F82, "1 + 3·2^-8: tie between odd 0x3F81 and 0x3F82, to even (up)"},
      {0x3F807FFFu, 0x3F80, "just below a tie: down"},
      {0x3F808001u, 0x3F81, "just above a tie: up"},
      {0x3F817FFFu, 0x3F81, "just below an odd tie: down"},
      {0x3FFF8000u, 0x4000, "tie that carries into the next binade (1.99.. -> 2)"},
      {0xBF808000u, 0xBF80, "-(1 + 2^-8): to even (toward zero)"},
      {0xBF818000u, 0xBF82, "-(1 + 3·2^-8): to even (away from zero)"},
      {0x00000000u, 0x0000, "+0"},
      {0x80000000u, 0x8000, "-0"},
      {0x00000001u, 0x0000, "smallest subnormal"},
      {0x80000001u, 0x8000, "smallest negative subnormal -> -0"},
      {0x00008000u, 0x0000, "subnormal tie between 0 and the smallest bf16 subnormal"},
      {0x00008001u, 0x0001, "subnormal just above that tie"},
      {0x00018000u, 0x0002, "subnormal tie, odd below -> up"},
      {0x007F8000u, 0x0080, "largest-subnormal tie rounds to the smallest normal"},
      {0x007FFFFFu, 0x0080, "largest fp32 subnormal"},
      {0x7F7FFFFFu, 0x7F80, "FLT_MAX overflows to +inf"},
      {0xFF7FFFFFu, 0xFF80, "-FLT_MAX overflows to -inf"},
      {0x7F7F8000u, 0x7F80, "tie between max bf16 (odd) and 2^128: inf"},
      {0x7F7F7FFFu, 0x7F7F, "just below that tie: max bf16"},
      {0x7F7F0000u, 0x7F7F, "max bf16 itself"},
      {0x7F800000u, 0x7F80, "+inf"},
      {0xFF800000u, 0xFF80, "-inf"},
  };
  for (const Case& c : cases) {
    const float f = float_of(c.in);
    EXPECT_EQ(mezo::float_to_bf16(f), c.out) << c.what;
    EXPECT_EQ(reference_bf16(f), c.out) << "reference: " << c.what;
    EXPECT_EQ(bits_of(mezo::round_to_bf16(f)), std::uint32_t{c.out} << 16) << c.what;
  }
  EXPECT_EQ(mezo::float_to_bf16(FLT_MAX), 0x7F80);
  EXPECT_EQ(mezo::float_to_bf16(-0.0f), 0x8000);
  EXPECT_EQ(mezo::float_to_bf16(std::numeric_limits<float>::infinity()), 0x7F80);
  EXPECT_EQ(mezo::float_to_bf16(-std::numeric_limits<float>::infinity()), 0xFF80);
}

TEST(Bf16Convert, NaNsStayNaN) {
  // NaNs whose payload lives only in the low half would truncate (or carry)
  // to an infinity; they must stay NaN.
  const std::uint32_t nans[] = {0x7F800001u, 0xFF800001u, 0x7F80FFFFu, 0x7F808000u,
                                0x7FBFFFFFu, 0x7FC00000u, 0xFFC00000u, 0x7FFFFFFFu,
                                0xFFFFFFFFu, 0x7FFF8000u, 0x7F807FFFu};
  for (std::uint32_t n : nans) {
    const std::uint16_t b = mezo::float_to_bf16(float_of(n));
    EXPECT_TRUE(is_bf16_nan(b)) << std::hex << n << " -> " << b;
    EXPECT_EQ(b & 0x8000u, (n >> 16) & 0x8000u) << std::hex << n;
    EXPECT_NE(b & 0x0040u, 0u) << std::hex << n << " not quiet";
    EXPECT_TRUE(std::isnan(mezo::round_to_bf16(float_of(n)))) << std::hex << n;
  }
  EXPECT_TRUE(std::isnan(mezo::round_to_bf16(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_TRUE(std::isnan(mezo::round_to_bf16(std::numeric_limits<float>::signaling_NaN())));
}

// Every bf16 high half with the low halves that matter (0, ties, either side
// of ties, extremes), then a stride through all 2^32 patterns.
TEST(Bf16Convert, MatchesTheReferenceOnASweep) {
  std::mt19937 gen(7);
  std::uniform_int_distribution<std::uint32_t> low(0, 0xFFFF);
  std::uint64_t checked = 0, ties_down = 0, ties_up = 0;
  auto check = [&](std::uint32_t in, bool count_ties) {
    const float f = float_of(in);
    const std::uint16_t got = mezo::float_to_bf16(f);
    if (std::isnan(f)) {
      ASSERT_TRUE(is_bf16_nan(got)) << std::hex << in;
      ASSERT_EQ(got, static_cast<std::uint16_t>((in >> 16) | 0x0040u)) << std::hex << in;
      return;
    }
    const std::uint16_t want = reference_bf16(f);
    ASSERT_EQ(got, want) << "input 0x" << std::hex << in << " (" << f << ")";
    ++checked;
    if (count_ties && (in & 0xFFFFu) == 0x8000u) {
      (got == (in >> 16) ? ties_down : ties_up) += 1;
    }
  };
  const std::uint32_t lows[] = {0x0000, 0x0001, 0x3FFF, 0x4000, 0x7FFE, 0x7FFF,
                                0x8000, 0x8001, 0x8002, 0xBFFF, 0xC000, 0xFFFF};
  for (std::uint32_t hi = 0; hi < 65536; ++hi) {
    for (std::uint32_t lo : lows) check((hi << 16) | lo, true);
    check((hi << 16) | low(gen), false);
    check((hi << 16) | low(gen), false);
    if (HasFatalFailure()) return;
  }
  for (std::uint64_t in = 0; in <= 0xFFFFFFFFull; in += 1021) {
    check(static_cast<std::uint32_t>(in), false);
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(checked, 4'000'000u);
  // Exactly half of the 65536 − 256 finite ties have an even lower neighbour.
  EXPECT_EQ(ties_down, 32640u);
  EXPECT_EQ(ties_up, 32640u);
}

// --- ParamSet --------------------------------------------------------------

TEST(Bf16Params, ViewsHaveDtypeBytesAndSharedOffsets) {
  std::vector<float> a(5), d(3);
  std::vector<std::uint16_t> b(7), c(11);
  mezo::ParamSet set;
  EXPECT_EQ(set.add("a.weight", a.data(), a.size()), 0u);
  EXPECT_EQ(set.add_bf16("b.weight", b.data(), b.size()), 1u);
  EXPECT_EQ(set.add_bf16("c.bias", c.data(), c.size()), 2u);
  const std::size_t g = set.add_group("custom", true);
  EXPECT_EQ(set.add("d.bias", d.data(), d.size(), g), 3u);
  const auto v = set.views();
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0].dtype, mezo::DType::f32);
  EXPECT_EQ(v[1].dtype, mezo::DType::bf16);
  EXPECT_EQ(v[2].dtype, mezo::DType::bf16);
  EXPECT_EQ(v[3].dtype, mezo::DType::f32);
  EXPECT_EQ(v[0].bytes(), 20u);
  EXPECT_EQ(v[1].bytes(), 14u);
  EXPECT_EQ(v[2].bytes(), 22u);
  EXPECT_EQ(v[3].bytes(), 12u);
  EXPECT_EQ(v[0].offset, 0u);
  EXPECT_EQ(v[1].offset, 5u);
  EXPECT_EQ(v[2].offset, 12u);
  EXPECT_EQ(v[3].offset, 23u);
  EXPECT_EQ(set.num_elements(), 26u);
  EXPECT_EQ(v[1].bf16(), b.data());
  EXPECT_EQ(v[2].data, static_cast<void*>(c.data()));
  EXPECT_EQ(v[1].group, mezo::ParamSet::decay_group);
  EXPECT_EQ(v[2].group, mezo::ParamSet::no_decay_group);  // "bias": default rule
  EXPECT_EQ(v[3].group, g);
  EXPECT_EQ(mezo::size_of(mezo::DType::bf16), 2u);
  EXPECT_EQ(mezo::size_of(mezo::DType::f32), 4u);
  EXPECT_STREQ(mezo::to_string(mezo::DType::bf16), "bf16");

  // An explicit group for a bf16 view.
  std::vector<std::uint16_t> e(2);
  EXPECT_EQ(set.add_bf16("e.weight", e.data(), e.size(), mezo::ParamSet::no_decay_group), 4u);
  EXPECT_EQ(set.views()[4].group, mezo::ParamSet::no_decay_group);
  EXPECT_EQ(set.views()[4].offset, 26u);
}

TEST(Bf16Params, RejectsBadViews) {
  mezo::ParamSet set;
  std::vector<std::uint16_t> b(4);
  EXPECT_CONTAINS(
      error_of([&] { set.add_bf16("null.weight", nullptr, 3); }, mezo::ErrorCode::invalid_argument),
      "null.weight");
  EXPECT_EQ(set.views().size(), 0u);
  EXPECT_EQ(set.add_bf16("empty.weight", nullptr, 0), 0u);  // null is fine when empty
  EXPECT_EQ(set.add_bf16("w", b.data(), b.size()), 1u);
  error_of([&] { set.add_bf16("w", b.data(), b.size()); }, mezo::ErrorCode::invalid_argument);
  error_of([&] { set.add_bf16("", b.data(), b.size()); }, mezo::ErrorCode::invalid_argument);
  error_of([&] { set.add_bf16("v", b.data(), b.size(), 99); }, mezo::ErrorCode::invalid_argument);
  error_of([&] { set.add_bf16("x", b.data(), b.size(), mezo::Device::cuda); },
           mezo::ErrorCode::invalid_argument);
  EXPECT_EQ(set.num_elements(), 4u);
}

// --- CPU passes over bf16 views --------------------------------------------

std::vector<std::uint16_t> random_bf16(std::size_t n, unsigned seed, float scale) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<std::uint16_t> w(n);
  for (auto& v : w) v = reference_bf16(dist(gen));
  return w;
}

std::vector<float> widen(const std::vector<std::uint16_t>& b) {
  std::vector<float> f(b.size());
  for (std::size_t i = 0; i < b.size(); ++i) f[i] = float_of(std::uint32_t{b[i]} << 16);
  return f;
}

// A set mixing f32 and bf16 views. The bf16 views' sizes are not multiples of
// the 4096-element chunk, and there are more than 2 · 65536 elements so that a
// two-thread pass really splits the work (the CPU pass uses one thread per
// 65536 elements at most).
struct Mixed {
  std::vector<float> a, d;
  std::vector<std::uint16_t> b, c, e;
  mezo::ParamSet params;
  Mixed()
      : a(random_f32(3001, 1, 0.02f)),
        d(random_f32(777, 4, 0.5f)),
        b(random_bf16(10007, 2, 0.02f)),
        c(random_bf16(523, 3, 0.05f)),
        e(random_bf16(140001, 5, 0.02f)) {
    b[0] = 0x0000;  // +0
    b[1] = 0x8000;  // -0
    b[2] = 0x0001;  // a bf16 subnormal
    b[3] = 0x3F7F;  // just below 1.0
    params.add("embed.weight", a.data(), a.size());
    params.add_bf16("layer.weight", b.data(), b.size());
    params.add_bf16("layer.bias", c.data(), c.size());  // no weight decay
    params.add("head.weight", d.data(), d.size());
    params.add_bf16("big.weight", e.data(), e.size());
  }
  Mixed(const Mixed&) = delete;
};

// The same set with every bf16 view widened into fp32 (same names, order,
// groups, so the same offsets).
struct Widened {
  std::vector<float> a, b, c, d, e;
  mezo::ParamSet params;
  explicit Widened(const Mixed& m) : a(m.a), b(widen(m.b)), c(widen(m.c)), d(m.d), e(widen(m.e)) {
    params.add("embed.weight", a.data(), a.size());
    params.add("layer.weight", b.data(), b.size());
    params.add("layer.bias", c.data(), c.size());
    params.add("head.weight", d.data(), d.size());
    params.add("big.weight", e.data(), e.size());
  }
  Widened(const Widened&) = delete;
};

struct PassSpec {
  mezo::ZTerm restore{101, 1e-3f};
  float decay = 1e-2f;
  std::vector<mezo::ZTerm> terms{{202, -2e-3f}, {303, 7e-4f}, {101, 1.5e-3f}};
  mezo::ParamPass pass() const {
    mezo::ParamPass p;
    p.restore = restore;
    p.decay = decay;
    p.terms = terms;
    return p;
  }
};

void expect_rounded_equal(const std::vector<std::uint16_t>& got, const std::vector<float>& wide,
                          const char* name) {
  ASSERT_EQ(got.size(), wide.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i], reference_bf16(wide[i])) << name << "[" << i << "]";
  }
}

bool same_f32(const std::vector<float>& x, const std::vector<float>& y) {
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * 4) == 0;
}

struct Distribution {
  mezo::ZDistribution value;
  const char* name;
};
void PrintTo(const Distribution& d, std::ostream* os) { *os << d.name; }

class Bf16Pass : public ::testing::TestWithParam<Distribution> {
 protected:
  std::shared_ptr<const mezo::Perturbation> perturbation(int threads) const {
    return std::make_shared<mezo::CounterPerturbation>(GetParam().value,
                                                       mezo::ExecutionOptions{threads, nullptr});
  }
};

TEST_P(Bf16Pass, EqualsTheFp32PassRoundedOnce) {
  const PassSpec spec;
  for (int threads : {1, 2}) {
    SCOPED_TRACE(threads);
    Mixed m;
    Widened w(m);
    for (std::size_t k = 0; k < m.params.views().size(); ++k) {
      ASSERT_EQ(m.params.views()[k].offset, w.params.views()[k].offset);
      ASSERT_EQ(m.params.views()[k].group, w.params.views()[k].group);
    }
    const auto p = perturbation(threads);
    const auto b0 = m.b;
    p->apply(m.params, spec.pass());
    p->apply(w.params, spec.pass());
    EXPECT_TRUE(same_f32(m.a, w.a));
    EXPECT_TRUE(same_f32(m.d, w.d));
    expect_rounded_equal(m.b, w.b, "layer.weight");
    expect_rounded_equal(m.c, w.c, "layer.bias");
    expect_rounded_equal(m.e, w.e, "big.weight");
    EXPECT_NE(m.b, b0) << "the pass changed nothing";
  }
}

// The same expectation computed element by element here, from generate():
// restore, decay (decaying groups only), terms, each rounded to fp32, then one
// rounding to bf16. Rounding after every operation instead gives different
// bits for some elements, so the single rounding is really what is checked.
TEST_P(Bf16Pass, EqualsAnElementwiseComputation) {
  const PassSpec spec;
  Mixed m;
  const std::vector<std::uint16_t> b0 = m.b, c0 = m.c;
  const auto p = perturbation(1);
  p->apply(m.params, spec.pass());

  std::size_t differs_from_per_op_rounding = 0;
  auto check_view = [&](const std::vector<std::uint16_t>& start,
                        const std::vector<std::uint16_t>& got, const mezo::ParamView& view,
                        bool decays) {
    const std::size_t n = start.size();
    std::vector<float> zr(n);
    p->generate(spec.restore.seed, view.offset, zr);
    std::vector<std::vector<float>> zt;
    for (const auto& t : spec.terms) {
      zt.emplace_back(n);
      p->generate(t.seed, view.offset, zt.back());
    }
    for (std::size_t i = 0; i < n; ++i) {
      float x = float_of(std::uint32_t{start[i]} << 16);
      float y = x;  // rounded to bf16 after every operation
      auto rb = [](float v) { return float_of(std::uint32_t{reference_bf16(v)} << 16); };
      const float dr = spec.restore.coef * zr[i];
      x = x + dr;
      y = rb(y + dr);
      if (decays) {
        const float dx = spec.decay * x;
        x = x - dx;
        const float dy = spec.decay * y;
        y = rb(y - dy);
      }
      for (std::size_t t = 0; t < spec.terms.size(); ++t) {
        const float d = spec.terms[t].coef * zt[t][i];
        x = x + d;
        y = rb(y + d);
      }
      ASSERT_EQ(got[i], reference_bf16(x)) << view.name << "[" << i << "]";
      differs_from_per_op_rounding += got[i] != reference_bf16(y);
    }
  };
  const auto views = m.params.views();
  check_view(b0, m.b, views[1], true);
  check_view(c0, m.c, views[2], false);
  EXPECT_GT(differs_from_per_op_rounding, 0u);
}

TEST_P(Bf16Pass, ThreadCountDoesNotChangeTheBits) {
  const PassSpec spec;
  Mixed one, two;
  perturbation(1)->apply(one.params, spec.pass());
  perturbation(2)->apply(two.params, spec.pass());
  EXPECT_EQ(one.b, two.b);
  EXPECT_EQ(one.c, two.c);
  EXPECT_EQ(one.e, two.e);
  EXPECT_TRUE(same_f32(one.a, two.a));
  EXPECT_TRUE(same_f32(one.d, two.d));
  Mixed untouched;
  EXPECT_NE(one.e, untouched.e);
}

// A pass with only terms (what perturb_inplace does) over bf16, and the probe
// flag, which a CounterPerturbation ignores.
TEST_P(Bf16Pass, SingleTermAndProbeFlag) {
  Mixed m, probed;
  Widened w(m);
  const mezo::ZTerm t{77, 3e-3f};
  mezo::ParamPass pass;
  pass.terms = {&t, 1};
  const auto p = perturbation(2);
  p->apply(m.params, pass);
  p->apply(w.params, pass);
  pass.probe = true;
  p->apply(probed.params, pass);
  expect_rounded_equal(m.b, w.b, "layer.weight");
  expect_rounded_equal(m.e, w.e, "big.weight");
  EXPECT_EQ(probed.b, m.b);
  EXPECT_EQ(probed.e, m.e);
  EXPECT_TRUE(same_f32(probed.a, m.a));
}

INSTANTIATE_TEST_SUITE_P(Distributions, Bf16Pass,
                         ::testing::Values(Distribution{mezo::ZDistribution::gaussian, "gaussian"},
                                           Distribution{mezo::ZDistribution::rademacher,
                                                        "rademacher"}),
                         [](const auto& info) { return std::string(info.param.name); });

// --- journals and mezo::step -----------------------------------------------

TEST(Bf16Journal, JournaledPassesAreUnsupported) {
  Mixed m;
  const auto b0 = m.b;
  const auto a0 = m.a;
  const mezo::ZTerm t{5, 1e-3f};
  mezo::RestoreJournal journal;
  mezo::ParamPass record;
  record.terms = {&t, 1};
  record.record = &journal;
  const auto p = mezo::gaussian_perturbation();
  EXPECT_CONTAINS(error_of([&] { p->apply(m.params, record); }, mezo::ErrorCode::unsupported),
                  "DeferredPerturbation");
  mezo::ParamPass read;
  read.restore = t;
  read.journal = &journal;
  EXPECT_CONTAINS(error_of([&] { p->apply(m.params, read); }, mezo::ErrorCode::unsupported),
                  "DeferredPerturbation");
  EXPECT_EQ(m.b, b0);
  EXPECT_TRUE(same_f32(m.a, a0)) << "the f32 views of the set must not move either";

  // The same passes over an all-f32 set are fine.
  Widened w(m);
  p->apply(w.params, record);
  EXPECT_GT(journal.size(), 0u);
}

TEST(Bf16Step, DefaultOptionsThrowUnsupportedAndLeaveTheBits) {
  Mixed m;
  const auto b0 = m.b, c0 = m.c, e0 = m.e;
  const auto a0 = m.a, d0 = m.d;
  mezo::ZoSgd opt({.lr = 1e-3f, .eps = 1e-3f});
  int calls = 0;
  const auto loss = [&] {
    ++calls;
    return 1.0f;
  };
  EXPECT_CONTAINS(
      error_of([&] { mezo::step(m.params, opt, loss, 9); }, mezo::ErrorCode::unsupported),
      "DeferredPerturbation");
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(opt.step_count(), 0);
  EXPECT_EQ(m.b, b0);
  EXPECT_EQ(m.c, c0);
  EXPECT_EQ(m.e, e0);
  EXPECT_TRUE(same_f32(m.a, a0));
  EXPECT_TRUE(same_f32(m.d, d0));
}

TEST(Bf16Step, WithoutExactRestoreRunsInPlace) {
  Mixed m;
  const auto b0 = m.b;
  mezo::ZoSgd opt({.lr = 1e-2f, .eps = 1e-3f});
  int calls = 0;
  // A loss that depends on the stored bf16 weights, so the update is nonzero.
  const auto loss = [&] {
    ++calls;
    double s = 0;
    for (std::size_t i = 0; i < m.b.size(); ++i) {
      const double x = float_of(std::uint32_t{m.b[i]} << 16);
      s += (x - 0.1) * (x - 0.1);
    }
    return static_cast<float>(s);
  };
  const auto r = mezo::step(m.params, opt, loss, 9, {.exact_restore = false});
  EXPECT_EQ(r.status, mezo::StepStatus::ok);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(r.journal_entries, 0u);
  EXPECT_FALSE(r.exact_restore);
  EXPECT_NE(r.loss_plus, r.loss_minus);
  EXPECT_NE(m.b, b0);
  EXPECT_EQ(opt.step_count(), 1);
}

}  // namespace
