// Names of ggml tensor types and GGUF value types, and the GgufValue makers.
#include <fmt/format.h>

#include <utility>

#include "mezo/io/gguf.hpp"

MEZO_BEGIN_NAMESPACE

std::string to_string(GgmlType type) {
  // Every number ggml's enum ggml_type defines (ggml.h), so that an error
  // about a type libmezo does not read still names it.
  switch (static_cast<std::uint32_t>(type)) {
    case 0:
      return "F32";
    case 1:
      return "F16";
    case 2:
      return "Q4_0";
    case 3:
      return "Q4_1";
    case 6:
      return "Q5_0";
    case 7:
      return "Q5_1";
    case 8:
      return "Q8_0";
    case 9:
      return "Q8_1";
    case 10:
      return "Q2_K";
    case 11:
      return "Q3_K";
    case 12:
      return "Q4_K";
    case 13:
      return "Q5_K";
    case 14:
      return "Q6_K";
    case 15:
      return "Q8_K";
    case 16:
      return "IQ2_XXS";
    case 17:
      return "IQ2_XS";
    case 18:
      return "IQ3_XXS";
    case 19:
      return "IQ1_S";
    case 20:
      return "IQ4_NL";
    case 21:
      return "IQ3_S";
    case 22:
      return "IQ2_S";
    case 23:
      return "IQ4_XS";
    case 24:
      return "I8";
    case 25:
      return "I16";
    case 26:
      return "I32";
    case 27:
      return "I64";
    case 28:
      return "F64";
    case 29:
      return "IQ1_M";
    case 30:
      return "BF16";
    case 34:
      return "TQ1_0";
    case 35:
      return "TQ2_0";
    case 39:
      return "MXFP4";
    case 40:
      return "NVFP4";
    case 41:
      return "Q1_0";
    case 42:
      return "Q2_0";
    default:
      return fmt::format("type {}", static_cast<std::uint32_t>(type));
  }
}

const char* to_string(GgufValueType type) noexcept {
  switch (type) {
    case GgufValueType::uint8:
      return "UINT8";
    case GgufValueType::int8:
      return "INT8";
    case GgufValueType::uint16:
      return "UINT16";
    case GgufValueType::int16:
      return "INT16";
    case GgufValueType::uint32:
      return "UINT32";
    case GgufValueType::int32:
      return "INT32";
    case GgufValueType::float32:
      return "FLOAT32";
    case GgufValueType::boolean:
      return "BOOL";
    case GgufValueType::string:
      return "STRING";
    case GgufValueType::array:
      return "ARRAY";
    case GgufValueType::uint64:
      return "UINT64";
    case GgufValueType::int64:
      return "INT64";
    case GgufValueType::float64:
      return "FLOAT64";
  }
  return "UNKNOWN";
}

// The makers fill the members exactly as the reader does for the same value,
// so a written value reads back equal (operator==).

GgufValue GgufValue::of_string(std::string value) {
  GgufValue v;
  v.type = GgufValueType::string;
  v.string = std::move(value);
  return v;
}

GgufValue GgufValue::of_uint32(std::uint32_t value) {
  GgufValue v;
  v.type = GgufValueType::uint32;
  v.integer = value;
  v.unsigned_integer = value;
  return v;
}

GgufValue GgufValue::of_float32(float value) {
  GgufValue v;
  v.type = GgufValueType::float32;
  v.number = value;
  return v;
}

GgufValue GgufValue::of_bool(bool value) {
  GgufValue v;
  v.type = GgufValueType::boolean;
  v.integer = value ? 1 : 0;
  v.unsigned_integer = value ? 1 : 0;
  return v;
}

GgufValue GgufValue::of_strings(std::vector<std::string> values) {
  GgufValue v;
  v.type = GgufValueType::array;
  v.element_type = GgufValueType::string;
  v.strings = std::move(values);
  return v;
}

GgufValue GgufValue::of_int32s(std::vector<std::int32_t> values) {
  GgufValue v;
  v.type = GgufValueType::array;
  v.element_type = GgufValueType::int32;
  v.integers.assign(values.begin(), values.end());
  return v;
}

GgufValue GgufValue::of_float32s(std::vector<float> values) {
  GgufValue v;
  v.type = GgufValueType::array;
  v.element_type = GgufValueType::float32;
  v.floats.assign(values.begin(), values.end());
  return v;
}

MEZO_END_NAMESPACE
