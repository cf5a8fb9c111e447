// JSON for scripts: what the portal answers, as JSON, written by hand so
// that `airlock run`, the same program, loads no JSON library at start.
#pragma once

#include <glib.h>

#include <string>
#include <string_view>

namespace airlock {

// Appends TEXT as a JSON string (RFC 8259: quotes, backslashes and control
// characters escaped). TEXT is UTF-8, as every D-Bus string is; a byte that
// is not becomes U+FFFD.
void append_json_string(std::string& out, std::string_view text);

// VALUE as JSON: a{sv} and other string-keyed dictionaries as objects, other
// arrays and tuples as arrays, numbers as numbers, booleans as true and false,
// strings, object paths and signatures as strings, variants as what they hold.
std::string json_from_variant(GVariant* value);

// An array of dictionaries (aa{sv}) as a JSON array, one element per line.
std::string json_lines_array(GVariant* rows);

}  // namespace airlock
