#include "base/strict_json.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>
#include <cmath>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace vigil {
namespace {

namespace json = boost::json;

// Boost.JSON's value-building handler (the value_stack), with a record of where the parser is
// (for the path of a refused value) and of the member names of every open object.
class StrictHandler {
 public:
  static constexpr size_t max_object_size = json::object::max_size();
  static constexpr size_t max_array_size = json::array::max_size();
  static constexpr size_t max_key_size = json::string::max_size();
  static constexpr size_t max_string_size = json::string::max_size();

  json::value_stack st;
  std::optional<Error> refused;

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }

  bool on_object_begin(json::error_code&) {
    frames_.emplace_back().object = true;
    return true;
  }
  bool on_object_end(size_t n, json::error_code&) {
    frames_.pop_back();
    st.push_object(n);
    return Advanced();
  }
  bool on_array_begin(json::error_code&) {
    frames_.emplace_back();
    return true;
  }
  bool on_array_end(size_t n, json::error_code&) {
    frames_.pop_back();
    st.push_array(n);
    return Advanced();
  }

  bool on_key_part(json::string_view s, size_t, json::error_code&) {
    key_.append(s.data(), s.size());
    st.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, size_t, json::error_code& ec) {
    key_.append(s.data(), s.size());
    Frame& top = frames_.back();
    if (!top.Insert(key_)) {
      top.key = std::move(key_);
      key_.clear();
      return Refuse(ec, "'" + Path() + "' is given twice; a member name may appear once");
    }
    top.key = std::move(key_);
    key_.clear();
    st.push_key(s);
    return true;
  }

  bool on_string_part(json::string_view s, size_t, json::error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, size_t, json::error_code&) {
    st.push_string(s);
    return Advanced();
  }

  bool on_number_part(json::string_view s, json::error_code&) {
    number_.append(s.data(), s.size());
    return true;
  }
  bool on_int64(int64_t i, json::string_view, json::error_code&) {
    number_.clear();
    st.push_int64(i);
    return Advanced();
  }
  bool on_uint64(uint64_t u, json::string_view, json::error_code&) {
    number_.clear();
    st.push_uint64(u);
    return Advanced();
  }
  bool on_double(double d, json::string_view s, json::error_code& ec) {
    number_.append(s.data(), s.size());
    // Boost.JSON reads an integer that fits no 64-bit type as a double, rounded.
    const bool integer = number_.find_first_of(".eE") == std::string::npos;
    number_.clear();
    if (integer) {
      return Refuse(ec, "'" + Path() +
                            "' is an integer beyond 64 bits (from -2^63 to 2^64-1 are kept "
                            "exactly); send a larger one as a string");
    }
    if (!std::isfinite(d)) {
      return Refuse(
          ec, "'" + Path() + "' is out of range; a number must be finite (at most about 1.8e308)");
    }
    st.push_double(d);
    return Advanced();
  }

  bool on_bool(bool b, json::error_code&) {
    st.push_bool(b);
    return Advanced();
  }
  bool on_null(json::error_code&) {
    st.push_null();
    return Advanced();
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  // One open object or array.
  struct Frame {
    bool object = false;
    size_t index = 0;  // of the array's current element
    std::string key;   // the object's current member
    // The object's member names so far: a short list searched in turn, then a set, so that an
    // object of many members costs no more than a set (a long list would be quadratic).
    std::vector<std::string> names;
    std::unordered_set<std::string> name_set;

    bool Insert(const std::string& name) {
      static constexpr size_t kListed = 16;
      if (name_set.empty()) {
        for (const std::string& n : names) {
          if (n == name) return false;
        }
        names.push_back(name);
        if (names.size() > kListed) {
          name_set.reserve(names.size() * 2);
          for (std::string& n : names) name_set.insert(std::move(n));
          names.clear();
        }
        return true;
      }
      return name_set.insert(name).second;
    }
  };

  // A value is complete: in an array, the next one comes.
  bool Advanced() {
    if (!frames_.empty() && !frames_.back().object) ++frames_.back().index;
    return true;
  }

  bool Refuse(json::error_code& ec, std::string message) {
    refused = Error(ErrorCode::kInvalidArgument, std::move(message), Path());
    ec = json::error::exception;  // any error stops the parser; `refused` says which
    return false;
  }

  // Where the parser is, as input.hpp names fields: "settings.n", "events[0].data".
  std::string Path() const {
    std::string path;
    for (const Frame& f : frames_) {
      if (f.object) {
        if (!path.empty()) path += '.';
        path += f.key;
      } else {
        path += '[' + std::to_string(f.index) + ']';
      }
    }
    return path;
  }

  std::vector<Frame> frames_;
  std::string key_;     // a member name read in parts
  std::string number_;  // a number read in parts
};

}  // namespace

Result<json::value> ParseStrictJson(std::string_view text, size_t max_depth) {
  json::parse_options options;
  options.max_depth = max_depth;
  json::basic_parser<StrictHandler> parser(options);
  parser.handler().st.reset();
  json::error_code ec;
  const size_t n = parser.write_some(false, text.data(), text.size(), ec);
  if (parser.handler().refused) return Fail(std::move(*parser.handler().refused));
  if (!ec && n < text.size()) ec = json::error::extra_data;
  if (ec) return Fail(ErrorCode::kInvalidArgument, "the body is not valid JSON: " + ec.message());
  return parser.handler().st.release();
}

}  // namespace vigil
