// JSON text as vigil writes it everywhere (responses, the stored log, frames).
//
// Boost.JSON 1.81 writes doubles in scientific form ("5E-1", "0E0"): valid JSON, but not what
// anyone reading a risk score expects. This writer prints the shortest decimal that round-trips
// (0.5, 0.825; 0.0 and 1.0 keep their point, so a float field is always a float), integers as
// integers, NaN and infinities as null, and strings escaped as RFC 8259 requires (UTF-8 is
// passed through).
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil {

std::string ToJsonText(const boost::json::value& value);
void AppendJsonText(const boost::json::value& value, std::string& out);

}  // namespace vigil

namespace vigil {

// Writes JSON text straight into a string, without building a tree first: the public views of
// an investigation are written this way on every commit. Commas are placed by the writer; the
// caller keeps objects and arrays balanced.
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  // The text of one object whose members `fill` writes: JsonWriter::Object([&](JsonWriter& w) {
  // w.Key("a").Int(1); }) is {"a":1}.
  template <typename Fill>
  static std::string Object(Fill&& fill) {
    std::string text;
    JsonWriter w(text);
    w.BeginObject();
    fill(w);
    w.EndObject();
    return text;
  }

  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }
  JsonWriter& Key(std::string_view key);

  JsonWriter& String(std::string_view s);
  JsonWriter& Int(int64_t n);
  JsonWriter& Double(double d);
  JsonWriter& Bool(bool b);
  JsonWriter& Null();
  JsonWriter& Value(const boost::json::value& v);  // a tree, e.g. free-form metadata
  JsonWriter& Raw(std::string_view json_text);     // text that is already valid JSON
  JsonWriter& Iso(int64_t epoch_ms);               // "2024-11-03T21:20:00.000Z"
  JsonWriter& IsoOrNull(std::optional<int64_t> epoch_ms);

 private:
  void Separate() {
    if (need_comma_) out_.push_back(',');
  }
  JsonWriter& Open(char c) {
    Separate();
    out_.push_back(c);
    need_comma_ = false;
    return *this;
  }
  JsonWriter& Close(char c) {
    out_.push_back(c);
    need_comma_ = true;
    return *this;
  }

  std::string& out_;
  bool need_comma_ = false;
};

}  // namespace vigil
