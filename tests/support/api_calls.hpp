// The API calls integration tests make over and over: headers for a bearer token, creating an
// investigation, reporting numbered error_logged events, and reading the whole log back.
// Failures are test failures (EXPECT), with the server's answer.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <vector>

#include "support/http_client.hpp"

namespace vigil::test {

// Authorization: Bearer <token>, and a JSON Content-Type.
Headers BearerJson(const std::string& token);

// Creates an investigation with one entity and a one-phase, one-tool plan; returns its id.
std::string CreateInvestigation(HttpClient& client, const Headers& who, const std::string& name);

// An error_logged event numbered `n` (code "E<n>", message "event <n>"), with `actor` when not
// empty and `pad` bytes of context when not zero.
boost::json::object ErrorLoggedEvent(int n, const std::string& actor = "", size_t pad = 0);

// Reports error_logged events numbered first .. first+n-1 in batches of `batch`; returns their
// ids in order.
std::vector<std::string> ReportErrors(HttpClient& client, const std::string& id, const Headers& who,
                                      int first, int n, int batch, const std::string& actor = "",
                                      size_t pad = 0);

// The whole log of an investigation, as GET /events items, every page.
std::vector<boost::json::value> ReadLog(HttpClient& client, const std::string& id,
                                        const Headers& who);

}  // namespace vigil::test
