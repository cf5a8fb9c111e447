#include "json_output.h"

#include <cmath>

namespace airlock {

namespace {

void append_json(std::string& out, GVariant* value);

void append_number(std::string& out, double number) {
  if (!std::isfinite(number)) {
    out += "null";  // JSON has no NaN or infinity
    return;
  }
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];
  out += g_ascii_dtostr(buffer, sizeof buffer, number);
}

void append_key(std::string& out, GVariant* key) {
  if (g_variant_is_of_type(key, G_VARIANT_TYPE_STRING) || g_variant_is_of_type(key, G_VARIANT_TYPE_OBJECT_PATH) ||
      g_variant_is_of_type(key, G_VARIANT_TYPE_SIGNATURE)) {
    append_json_string(out, g_variant_get_string(key, nullptr));
    return;
  }
  // JSON keys are strings: other basic keys are written as their JSON text.
  std::string text;
  append_json(text, key);
  if (!text.empty() && text.front() == '"') out += text;
  else append_json_string(out, text);
}

void append_container(std::string& out, GVariant* value) {
  bool dictionary = g_variant_type_is_subtype_of(g_variant_get_type(value), G_VARIANT_TYPE("a{?*}"));
  out += dictionary ? '{' : '[';
  GVariantIter iter;
  g_variant_iter_init(&iter, value);
  bool first = true;
  while (GVariant* child = g_variant_iter_next_value(&iter)) {
    if (!first) out += ',';
    first = false;
    if (dictionary) {
      g_autoptr(GVariant) key = g_variant_get_child_value(child, 0);
      g_autoptr(GVariant) entry = g_variant_get_child_value(child, 1);
      append_key(out, key);
      out += ':';
      append_json(out, entry);
    } else {
      append_json(out, child);
    }
    g_variant_unref(child);
  }
  out += dictionary ? '}' : ']';
}

void append_json(std::string& out, GVariant* value) {
  const GVariantType* type = g_variant_get_type(value);
  if (g_variant_type_equal(type, G_VARIANT_TYPE_BOOLEAN)) {
    out += g_variant_get_boolean(value) ? "true" : "false";
  } else if (g_variant_type_equal(type, G_VARIANT_TYPE_BYTE)) {
    out += std::to_string(g_variant_get_byte(value));
  } else if (g_variant_type_equal(type, G_VARIANT_TYPE_INT16)) {
    out += std::to_string(g_variant_get_int16(value));
  } else if (g_variant_type_equal(type, G_VARIANT_TYPE_UINT16)) {
    out += std::to_string(g_variant_get_uint16(value));
  } else if (g_variant_type_equal(type, G_VARIANT_TYPE_INT32)) {
    out += std::to_string(g_variant_get_int32(value));
  } else if (g_variant_type_equal(type, G_VARIANT_TYPE_UINT32)) {
    out += std::to_string(g_variant_get_uint32(value));
  } else if (g_variant_type_equal(type, G_VARIANT_TYPE_INT64)) {
    out += std::to_string(g_variant_get_int64(value));
  } else if (g_variant_type_equal(type, G_VARIANT_TYPE_UINT64)) {
    out += std::to_string(g_variant_get_uint64(value));
  } else if (g_variant_type_equal(type, G_VARIANT_TYPE_HANDLE)) {
    out += std::to_string(g_variant_get_handle(value));
  } else if (g_variant_type_equal(type, G_VARIANT_TYPE_DOUBLE)) {
    append_number(out, g_variant_get_double(value));
  } else if (g_variant_type_equal(type, G_VARIANT_TYPE_STRING) ||
             g_variant_type_equal(type, G_VARIANT_TYPE_OBJECT_PATH) ||
             g_variant_type_equal(type, G_VARIANT_TYPE_SIGNATURE)) {
    append_json_string(out, g_variant_get_string(value, nullptr));
  } else if (g_variant_type_equal(type, G_VARIANT_TYPE_VARIANT)) {
    g_autoptr(GVariant) inner = g_variant_get_variant(value);
    append_json(out, inner);
  } else if (g_variant_type_is_maybe(type)) {
    g_autoptr(GVariant) inner = g_variant_get_maybe(value);
    if (inner) append_json(out, inner);
    else out += "null";
  } else {
    append_container(out, value);  // arrays, tuples, dictionary entries
  }
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    unsigned char byte = static_cast<unsigned char>(*p);
    if (byte >= 0x80) {
      gunichar c = g_utf8_get_char_validated(p, end - p);
      if (c == static_cast<gunichar>(-1) || c == static_cast<gunichar>(-2)) {
        out += "\\ufffd";
        ++p;
      } else if (c == 0x2028 || c == 0x2029) {
        out += c == 0x2028 ? "\\u2028" : "\\u2029";  // line ends to JavaScript
        p = g_utf8_next_char(p);
      } else {
        const char* next = g_utf8_next_char(p);
        out.append(p, next);
        p = next;
      }
      continue;
    }
    switch (byte) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (byte < 0x20 || byte == 0x7f) {
          static const char hex[] = "0123456789abcdef";
          out += "\\u00";
          out += hex[byte >> 4];
          out += hex[byte & 0xf];
        } else {
          out += static_cast<char>(byte);
        }
        break;
    }
    ++p;
  }
  out += '"';
}

std::string json_from_variant(GVariant* value) {
  std::string out;
  append_json(out, value);
  return out;
}

std::string json_lines_array(GVariant* rows) {
  std::string out = "[";
  GVariantIter iter;
  g_variant_iter_init(&iter, rows);
  bool first = true;
  while (GVariant* row = g_variant_iter_next_value(&iter)) {
    out += first ? "\n  " : ",\n  ";
    first = false;
    append_json(out, row);
    g_variant_unref(row);
  }
  out += first ? "]\n" : "\n]\n";
  return out;
}

}  // namespace airlock
