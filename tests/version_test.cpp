// The version the library reports at run time and the ABI namespace, both
// derived from mezo/version.hpp (the one place the version is written).
#include <gtest/gtest.h>

#include <mezo/mezo.hpp>
#include <string>
#include <typeinfo>

namespace {

TEST(Version, TheLibraryIsTheVersionOfTheHeaders) {
  EXPECT_EQ(mezo::version(), MEZO_VERSION);
  EXPECT_EQ(std::string(MEZO_VERSION_STRING), std::to_string(MEZO_VERSION_MAJOR) + "." +
                                                  std::to_string(MEZO_VERSION_MINOR) + "." +
                                                  std::to_string(MEZO_VERSION_PATCH));
}

// Two libmezo builds whose ABI may differ must not link into one program:
// the inline namespace is v<major> from 1.0 on and v0_<minor> while 0.x
// (a minor release may break the ABI then), and every public symbol is in it.
TEST(Version, TheAbiNamespaceFollowsTheVersion) {
  const std::string expected = MEZO_VERSION_MAJOR == 0 ? "v0_" + std::to_string(MEZO_VERSION_MINOR)
                                                       : "v" + std::to_string(MEZO_VERSION_MAJOR);
  // Itanium mangling: mezo::<abi>::ParamSet is N4mezo<len><abi>8ParamSetE.
  const std::string mangled = typeid(mezo::ParamSet).name();
  EXPECT_NE(mangled.find("4mezo" + std::to_string(expected.size()) + expected + "8ParamSet"),
            std::string::npos)
      << mangled;
}

}  // namespace
