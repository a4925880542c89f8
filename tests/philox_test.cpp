#include <gtest/gtest.h>
#include <mezo/mezo.hpp>
TEST(Philox, Kat) {}
