// `vigil tail`: prints the events of one investigation from a running vigil server, the way one
// follows a long job from a terminal.
//
// It reads the Server-Sent Events stream
//   GET {url}/api/v1/investigations/{id}/runs/current/stream?progress=false
// always with a Last-Event-ID (the --since id, or "0_000000": the whole log), so the server
// replays the log, says caught_up, then goes live. Every domain event is printed once, in order,
// one line each, flushed at once; stdout carries nothing else. Notices (reconnecting, a reset
// of the resume id, the end of the run) go to stderr.
//
// Without --follow it stops at caught_up. With --follow it stops at the end frame (the run reached
// a terminal state) and otherwise survives anything the network or the server can do: on a
// reconnect frame, a dropped or silent connection, a refused connect or a 503 it resumes after the
// last event printed, with backoff. An event whose id is not after the last one printed is
// skipped, so a resume never repeats a line.
//
// Exit codes: 0 at caught_up (or end) without --follow, at end with --follow; 1 when the server
// refuses (401, 403, 404, 400: its problem detail is printed), an error frame that retrying cannot
// fix, or, without --follow, when the server cannot be reached; 2 for a usage error.
// SIGINT and SIGTERM end the process at once (the default action): nothing needs cleaning up.
#pragma once

#include <string>

namespace vigil::app {

struct TailOptions {
  std::string investigation_id;
  std::string url = "http://127.0.0.1:8080";  // http only; may carry a path prefix
  std::string token;  // the bearer token; sent in the Authorization header, never in the URL
  std::string since;  // print the events after this event id; empty: from the start of the log
  bool follow = false;
  bool json = false;  // print each event's JSON as the server sent it (JSON Lines)
};

// Runs until one of the exits above; returns the exit code.
int Tail(const TailOptions& options);

}  // namespace vigil::app
