// live-driver: SSE load for the cases the shared sse-fanout tool does not cover (bench/live.sh).
//
//   * many channels: T channels (--channels-file, one name a line) with K subscribers each; the
//     publisher posts message k (1..T*M) to channel (k-1) % T, at --rate messages per second in
//     all, so every channel gets M messages;
//   * reconnect storm (--storm-at-s S): S seconds after publishing starts, every open stream is
//     dropped at once (RST) and reconnected with Last-Event-ID (the id of the last frame it
//     received) while the publisher keeps going; reports how long until every subscriber was
//     back and had everything published before it came back, and loss/duplicates overall.
//
// The receiver counts a delivery for frames whose data holds "seq":N and "sent_us":T, unless
// the frame's event type is a control frame (snapshot, progress, reset, caught_up, heartbeat,
// reconnect, end, error); those are counted by type. Latency = receive time - sent_us
// (CLOCK_REALTIME, same host). One JSON line on stdout; key names follow sse-fanout's.
//
// Safety: loopback only; runtime capped by --max-runtime-s (at most 600) plus a SIGALRM failsafe;
// every loop is bounded by T, K and M.
//
// Build: g++ -O2 -std=c++17 -pthread -o live-driver live_driver.cpp
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

static int64_t wall_us() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}
static int64_t mono_us() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}
[[noreturn]] static void die(const std::string& m) {
  fprintf(stderr, "live-driver: %s\n", m.c_str());
  exit(2);
}
static std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = 0; (p = s.find(from, p)) != std::string::npos; p += to.size())
    s.replace(p, from.size(), to);
  return s;
}

struct Url {
  std::string hostport, path;  // path is still a template
  sockaddr_in addr{};
};
static Url parse_url(const std::string& u) {
  Url r;
  if (u.compare(0, 7, "http://") != 0) die("only http:// URLs: " + u);
  std::string rest = u.substr(7);
  size_t slash = rest.find('/');
  r.hostport = rest.substr(0, slash);
  r.path = slash == std::string::npos ? "/" : rest.substr(slash);
  size_t colon = r.hostport.rfind(':');
  std::string host = r.hostport.substr(0, colon);
  int port = colon == std::string::npos ? 80 : atoi(r.hostport.c_str() + colon + 1);
  r.addr.sin_family = AF_INET;
  r.addr.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &r.addr.sin_addr) != 1)
    die("need a numeric IPv4 host: " + u);
  if ((ntohl(r.addr.sin_addr.s_addr) >> 24) != 127) die("refusing non-loopback destination: " + u);
  return r;
}

// ------------------------------------------------------------------ options
struct Opts {
  std::string sub_url, pub_url, label;
  std::string pub_body =
      "{\"seq\":{seq},\"sent_us\":{sent_us},\"sched_us\":{sched_us},\"pad\":\"{pad}\"}";
  std::vector<std::string> sub_headers, pub_headers, channels;
  int subs_per_channel = 10, messages = 5, pub_conns = 4, payload_bytes = 256;
  double rate = 100, settle_s = 1, drain_s = 10, max_runtime_s = 120, storm_at_s = 0;
  int connect_concurrency = 256, storm_concurrency = 1024;
  std::vector<int> server_pids;
};
static Opts g_o;

static void usage() {
  fprintf(stderr,
          "usage: live-driver --sub-url T --pub-url T (--channels-file F | --channel C)\n"
          "  [-k SUBS_PER_CHANNEL] [-m MESSAGES_PER_CHANNEL] [--rate TOTAL_PER_S] [--pub-body T]\n"
          "  [--sub-header 'K: V'] [--pub-header 'K: V'] [--pub-conns P] [--payload-bytes B]\n"
          "  [--connect-concurrency C] [--storm-at-s S] [--storm-concurrency C]\n"
          "  [--settle-s S] [--drain-s S] [--max-runtime-s S] [--server-pid P[,P]] [--label X]\n");
  exit(2);
}
static void parse_opts(int argc, char** argv) {
  Opts& o = g_o;
  auto need = [&](int& i) -> std::string {
    if (i + 1 >= argc) usage();
    return argv[++i];
  };
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--sub-url")
      o.sub_url = need(i);
    else if (a == "--pub-url")
      o.pub_url = need(i);
    else if (a == "--pub-body")
      o.pub_body = need(i);
    else if (a == "--sub-header")
      o.sub_headers.push_back(need(i));
    else if (a == "--pub-header")
      o.pub_headers.push_back(need(i));
    else if (a == "--channel")
      o.channels.push_back(need(i));
    else if (a == "--channels-file") {
      std::ifstream f(need(i));
      for (std::string l; std::getline(f, l);)
        if (!l.empty()) o.channels.push_back(l);
    } else if (a == "-k")
      o.subs_per_channel = atoi(need(i).c_str());
    else if (a == "-m")
      o.messages = atoi(need(i).c_str());
    else if (a == "--rate")
      o.rate = atof(need(i).c_str());
    else if (a == "--pub-conns")
      o.pub_conns = atoi(need(i).c_str());
    else if (a == "--payload-bytes")
      o.payload_bytes = atoi(need(i).c_str());
    else if (a == "--connect-concurrency")
      o.connect_concurrency = atoi(need(i).c_str());
    else if (a == "--storm-at-s")
      o.storm_at_s = atof(need(i).c_str());
    else if (a == "--storm-concurrency")
      o.storm_concurrency = atoi(need(i).c_str());
    else if (a == "--settle-s")
      o.settle_s = atof(need(i).c_str());
    else if (a == "--drain-s")
      o.drain_s = atof(need(i).c_str());
    else if (a == "--max-runtime-s")
      o.max_runtime_s = atof(need(i).c_str());
    else if (a == "--label")
      o.label = need(i);
    else if (a == "--server-pid") {
      std::string v = need(i);
      for (size_t p = 0; p < v.size();) {
        size_t c = v.find(',', p);
        if (c == std::string::npos) c = v.size();
        if (int pid = atoi(v.substr(p, c - p).c_str()); pid > 0) o.server_pids.push_back(pid);
        p = c + 1;
      }
    } else
      usage();
  }
  if (o.sub_url.empty() || o.pub_url.empty() || o.channels.empty()) usage();
  if (o.channels.size() > 100000) die("at most 100000 channels");
  if (o.subs_per_channel < 1 || (double)o.subs_per_channel * o.channels.size() > 200000)
    die("-k out of range");
  if (o.messages < 1 || (double)o.messages * o.channels.size() > 1000000) die("-m out of range");
  if (o.rate <= 0 || o.rate > 100000) die("--rate out of range");
  if (o.max_runtime_s <= 0 || o.max_runtime_s > 600) die("--max-runtime-s must be in (0,600]");
  if (o.pub_conns < 1 || o.pub_conns > 64) die("--pub-conns must be in [1,64]");
  if (o.connect_concurrency < 1) o.connect_concurrency = 1;
  if (o.storm_concurrency < 1) o.storm_concurrency = 1;
}

// ------------------------------------------------------------ /proc sampling
struct ProcSample {
  long rss_kb = 0;
  double cpu_s = 0;
};
static ProcSample sample(const std::vector<int>& pids) {
  ProcSample s;
  long tck = sysconf(_SC_CLK_TCK);
  for (int pid : pids) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    if (FILE* f = fopen(path, "r")) {
      char line[256];
      long v;
      while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &v) == 1) s.rss_kb += v;
      fclose(f);
    }
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE* f = fopen(path, "r");
    if (!f) continue;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char* p = strrchr(buf, ')');
    if (!p) continue;
    unsigned long ut = 0, st = 0;
    // after ')': state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
      s.cpu_s += double(ut + st) / tck;
  }
  return s;
}
static double self_cpu_s() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

// ------------------------------------------------------------ subscribers
enum : uint8_t { S_IDLE, S_CONNECTING, S_HEADERS, S_STREAM, S_CLOSED, S_FAILED };

struct Sub {
  int fd = -1;
  uint8_t state = S_IDLE;
  bool chunked = false, cr = false, has_data = false, has_id = false, resumed = false,
       caught_up = false;
  uint8_t cstate = 0;
  size_t chunk_left = 0, req_off = 0;
  int channel = 0;
  int prefix = 0;    // messages 0..prefix-1 of its channel all received (or failed to publish)
  int max_idx = -1;  // highest message index received, for out-of-order
  int target = 0;    // after a storm reconnect: caught up once prefix >= target
  int64_t caught_up_us = 0;
  std::string req, hdr, csz, line, data, evtype, id, last_id;
};

static std::vector<Sub> g_subs;
static std::vector<uint8_t> g_got;  // subs x messages
static int g_T = 1, g_K = 1, g_M = 1;
static int g_ep = -1;
static Url g_sub_url, g_pub_url;
static std::atomic<int> g_stop{0};
static int g_inflight = 0, g_connect_failed = 0, g_http_errors = 0, g_first_bad_status = 0,
           g_disconnects = 0;
static int g_reconnect_failed = 0, g_reconnected = 0, g_dropped = 0;
static uint64_t g_received = 0, g_dups = 0, g_ooo = 0, g_wrong_channel = 0, g_foreign = 0,
                g_negative = 0;
static std::map<std::string, uint64_t> g_types;
static std::vector<uint32_t> g_lat, g_lat_sched;
static bool g_storm_mode = false;
static int64_t g_drop_mono = 0, g_reconnected_all_us = 0;

// publisher state, shared with the subscriber loop
static std::vector<std::atomic<uint8_t>>* g_pub_state;  // per k: 0 pending, 1 ok, 2 failed
static std::atomic<int> g_dispatched{0};                // highest k whose send has started

static void on_signal(int) { g_stop = 1; }
static void on_alarm(int) {
  const char m[] = "{\"tool\":\"live-driver\",\"error\":\"hard timeout (SIGALRM failsafe)\"}\n";
  ssize_t r = write(1, m, sizeof m - 1);
  (void)r;
  _exit(3);
}

static long int_after(const std::string& s, const char* key) {
  size_t p = s.find(key);
  if (p == std::string::npos) return -1;
  p += strlen(key);
  while (p < s.size() && s[p] == ' ') p++;
  if (p >= s.size() || !isdigit((unsigned char)s[p])) return -1;
  return strtol(s.c_str() + p, nullptr, 10);
}

// Messages of channel c among k = 1..D.
static int count_of_channel(int D, int c) { return D > c ? (D - 1 - c) / g_T + 1 : 0; }

static void advance(Sub& s, size_t idx, int64_t now_mono) {
  const uint8_t* got = &g_got[idx * g_M];
  while (s.prefix < g_M) {
    int k = s.prefix * g_T + s.channel + 1;
    if (got[s.prefix] || (*g_pub_state)[k - 1].load() == 2)
      s.prefix++;
    else
      break;
  }
  if (s.resumed && !s.caught_up && s.prefix >= s.target) {
    s.caught_up = true;
    s.caught_up_us = now_mono;
  }
}

static bool is_control(const std::string& t) {
  static const char* names[] = {"snapshot",  "progress",  "reset", "caught_up",
                                "heartbeat", "reconnect", "end",   "error"};
  for (const char* n : names)
    if (t == n) return true;
  return false;
}

static void dispatch(Sub& s, size_t idx, int64_t t_wall) {
  if (s.has_id) s.last_id = s.id;
  std::string type = s.evtype.empty() ? "message" : s.evtype;
  s.has_id = false;
  s.evtype.clear();
  if (!s.has_data) return;
  s.has_data = false;
  g_types[type]++;
  long seq = -1, sent = -1, sched = -1;
  if (!is_control(type)) {
    seq = int_after(s.data, "\"seq\":");
    sent = int_after(s.data, "\"sent_us\":");
    sched = int_after(s.data, "\"sched_us\":");
  }
  s.data.clear();
  if (seq < 1 || seq > (long)g_T * g_M || sent <= 0) {
    g_foreign++;
    return;
  }
  int ch = int((seq - 1) % g_T), i = int((seq - 1) / g_T);
  if (ch != s.channel) {
    g_wrong_channel++;
    return;
  }
  uint8_t& flag = g_got[idx * g_M + i];
  if (flag) {
    g_dups++;
    return;
  }
  flag = 1;
  g_received++;
  if (i < s.max_idx) g_ooo++;
  s.max_idx = std::max(s.max_idx, i);
  int64_t lat = t_wall - sent;
  if (lat < 0) {
    g_negative++;
    lat = 0;
  }
  g_lat.push_back((uint32_t)std::min<int64_t>(lat, UINT32_MAX));
  if (sched > 0)
    g_lat_sched.push_back((uint32_t)std::clamp<int64_t>(t_wall - sched, 0, UINT32_MAX));
  advance(s, idx, mono_us());
}

static void sse_line(Sub& s, size_t idx, int64_t t) {
  const std::string& L = s.line;
  if (L.empty()) {
    dispatch(s, idx, t);
    return;
  }
  if (L[0] == ':') return;
  size_t colon = L.find(':');
  std::string field = L.substr(0, colon);
  size_t v = colon == std::string::npos ? L.size() : colon + 1;
  if (v < L.size() && L[v] == ' ') v++;
  if (field == "data") {
    s.data.append(L, v, std::string::npos);
    s.data.push_back('\n');
    s.has_data = true;
  } else if (field == "event") {
    s.evtype = L.substr(v);
  } else if (field == "id") {
    s.id = L.substr(v);
    s.has_id = true;
  }
}

static void sse_feed(Sub& s, size_t idx, const char* p, size_t n, int64_t t) {
  size_t i = 0;
  while (i < n) {
    if (s.cr) {
      s.cr = false;
      if (p[i] == '\n') {
        i++;
        continue;
      }
    }
    size_t j = i;
    while (j < n && p[j] != '\n' && p[j] != '\r') j++;
    s.line.append(p + i, j - i);
    if (j == n) break;
    if (p[j] == '\r') s.cr = true;
    sse_line(s, idx, t);
    s.line.clear();
    i = j + 1;
  }
}

static void body_feed(Sub& s, size_t idx, const char* p, size_t n, int64_t t) {
  if (!s.chunked) {
    sse_feed(s, idx, p, n, t);
    return;
  }
  while (n > 0) {
    if (s.cstate == 0) {
      char c = *p++;
      n--;
      if (c == '\n') {
        size_t sz = strtoul(s.csz.c_str(), nullptr, 16);
        s.csz.clear();
        if (sz == 0) {
          s.cstate = 3;
          return;
        }
        s.chunk_left = sz;
        s.cstate = 1;
      } else if (c != '\r')
        s.csz.push_back(c);
    } else if (s.cstate == 1) {
      size_t take = std::min(n, s.chunk_left);
      sse_feed(s, idx, p, take, t);
      p += take;
      n -= take;
      s.chunk_left -= take;
      if (s.chunk_left == 0) s.cstate = 2;
    } else if (s.cstate == 2) {
      char c = *p++;
      n--;
      if (c == '\n') s.cstate = 0;
    } else
      return;
  }
}

static void close_sub(Sub& s, uint8_t st) {
  if (s.fd >= 0) {
    linger lg{1, 0};  // RST: no TIME_WAIT, like a dropped client
    setsockopt(s.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    epoll_ctl(g_ep, EPOLL_CTL_DEL, s.fd, nullptr);
    close(s.fd);
    s.fd = -1;
  }
  if (s.state == S_CONNECTING || s.state == S_HEADERS) g_inflight--;
  s.state = st;
  s.hdr.clear();
  s.line.clear();
  s.data.clear();
  s.csz.clear();
  s.evtype.clear();
  s.has_data = s.has_id = s.cr = false;
  s.cstate = 0;
  s.chunked = false;
}

static void start_connect(size_t idx, bool resume) {
  Sub& s = g_subs[idx];
  std::string path = replace_all(g_sub_url.path, "{channel}", g_o.channels[s.channel]);
  s.req = "GET " + path + " HTTP/1.1\r\nHost: " + g_sub_url.hostport +
          "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n";
  for (auto& h : g_o.sub_headers) s.req += h + "\r\n";
  if (resume && !s.last_id.empty()) s.req += "Last-Event-ID: " + s.last_id + "\r\n";
  s.req += "\r\n";
  s.req_off = 0;
  s.resumed = resume;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    s.state = S_FAILED;
    (resume ? g_reconnect_failed : g_connect_failed)++;
    return;
  }
  int rc = connect(fd, (sockaddr*)&g_sub_url.addr, sizeof g_sub_url.addr);
  if (rc < 0 && errno != EINPROGRESS) {
    close(fd);
    s.state = S_FAILED;
    (resume ? g_reconnect_failed : g_connect_failed)++;
    return;
  }
  s.fd = fd;
  s.state = S_CONNECTING;
  g_inflight++;
  epoll_event ev{};
  ev.events = EPOLLOUT | EPOLLIN;
  ev.data.u64 = idx;
  epoll_ctl(g_ep, EPOLL_CTL_ADD, fd, &ev);
}

static void fail_sub(Sub& s) {
  (s.resumed ? g_reconnect_failed : g_connect_failed)++;
  close_sub(s, S_FAILED);
}

static char g_rbuf[1 << 16];

static void handle(size_t idx, uint32_t evs) {
  Sub& s = g_subs[idx];
  if (s.fd < 0) return;
  if (s.state == S_CONNECTING) {
    if (!(evs & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    int err = 0;
    socklen_t el = sizeof err;
    getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &el);
    if (err) {
      fail_sub(s);
      return;
    }
    while (s.req_off < s.req.size()) {
      ssize_t w = write(s.fd, s.req.data() + s.req_off, s.req.size() - s.req_off);
      if (w < 0) {
        if (errno == EAGAIN) return;
        fail_sub(s);
        return;
      }
      s.req_off += w;
    }
    s.state = S_HEADERS;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = idx;
    epoll_ctl(g_ep, EPOLL_CTL_MOD, s.fd, &ev);
    return;
  }
  if (!(evs & (EPOLLIN | EPOLLERR | EPOLLHUP))) return;
  ssize_t n = read(s.fd, g_rbuf, sizeof g_rbuf);
  int64_t t = wall_us();
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    if (s.state == S_STREAM) {
      g_disconnects++;
      close_sub(s, S_CLOSED);
    } else
      fail_sub(s);
    return;
  }
  if (n < 0) return;
  if (s.state == S_HEADERS) {
    size_t old = s.hdr.size();
    s.hdr.append(g_rbuf, n);
    size_t e = s.hdr.find("\r\n\r\n", old >= 3 ? old - 3 : 0);
    if (e == std::string::npos) {
      if (s.hdr.size() > 65536) {
        g_http_errors++;
        fail_sub(s);
      }
      return;
    }
    int status =
        s.hdr.size() > 12 && s.hdr.compare(0, 5, "HTTP/") == 0 ? atoi(s.hdr.c_str() + 9) : 0;
    if (status != 200) {
      g_http_errors++;
      if (!g_first_bad_status) g_first_bad_status = status ? status : -1;
      fail_sub(s);
      return;
    }
    std::string head = s.hdr.substr(0, e);
    for (auto& c : head) c = tolower((unsigned char)c);
    size_t te = head.find("\ntransfer-encoding:");
    if (te != std::string::npos && head.find("chunked", te) < head.find('\n', te + 1))
      s.chunked = true;
    std::string rest = s.hdr.substr(e + 4);
    s.hdr.clear();
    s.state = S_STREAM;
    g_inflight--;
    if (s.resumed) {
      g_reconnected++;
      // caught up once it has every message of its channel whose send had started by now
      s.target = count_of_channel(g_dispatched.load(), s.channel);
      if (g_reconnected_all_us == 0 && g_reconnected + g_reconnect_failed >= g_dropped)
        g_reconnected_all_us = mono_us();
    }
    if (!rest.empty()) body_feed(s, idx, rest.data(), rest.size(), t);
    advance(s, idx, mono_us());
    return;
  }
  if (s.state == S_STREAM) body_feed(s, idx, g_rbuf, n, t);
}

static void pump(int timeout_ms) {
  static epoll_event evs[1024];
  int n = epoll_wait(g_ep, evs, 1024, timeout_ms);
  for (int i = 0; i < n; i++) handle(evs[i].data.u64, evs[i].events);
}

// --------------------------------------------------------------- publisher
struct PubResult {
  std::atomic<int> sent{0}, ok{0}, errors{0}, done_threads{0};
  std::mutex mu;
  int first_bad_status = 0;
  std::vector<uint32_t> rtt_us;
  int64_t first_send = 0, last_send = 0;
};

static int pub_connect() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, (sockaddr*)&g_pub_url.addr, sizeof g_pub_url.addr) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static int read_response(int fd, bool& keep) {
  std::string buf;
  char tmp[8192];
  size_t e;
  keep = false;
  while ((e = buf.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = read(fd, tmp, sizeof tmp);
    if (n <= 0 || buf.size() > (1 << 20)) return -1;
    buf.append(tmp, n);
  }
  int status = buf.size() > 12 ? atoi(buf.c_str() + 9) : -1;
  std::string head = buf.substr(0, e);
  for (auto& c : head) c = tolower((unsigned char)c);
  std::string body = buf.substr(e + 4);
  keep = head.find("\nconnection: close") == std::string::npos;
  size_t p;
  if ((p = head.find("\ncontent-length:")) != std::string::npos) {
    long len = atol(head.c_str() + p + 16);
    while ((long)body.size() < len) {
      ssize_t n = read(fd, tmp, sizeof tmp);
      if (n <= 0) {
        keep = false;
        break;
      }
      body.append(tmp, n);
    }
  } else if (head.find("chunked") != std::string::npos) {
    while (body.find("0\r\n\r\n") == std::string::npos) {
      ssize_t n = read(fd, tmp, sizeof tmp);
      if (n <= 0 || body.size() > (1 << 22)) {
        keep = false;
        break;
      }
      body.append(tmp, n);
    }
  } else if (status != 204 && status != 304) {
    keep = false;
  }
  return status;
}

static void publisher(int tid, int64_t start_mono, int64_t start_wall, int64_t deadline,
                      PubResult* r) {
  const int total = g_T * g_M;
  int fd = -1;
  for (int k = 1 + tid; k <= total && !g_stop; k += g_o.pub_conns) {
    int64_t offset = int64_t((k - 1) * 1e6 / g_o.rate);
    for (;;) {
      int64_t now = mono_us();
      if (now >= start_mono + offset || g_stop) break;
      int64_t d = std::min<int64_t>(start_mono + offset - now, 100000);
      timespec ts{d / 1000000, (d % 1000000) * 1000};
      nanosleep(&ts, nullptr);
    }
    if (g_stop || mono_us() > deadline) break;
    int ch = (k - 1) % g_T;
    const std::string& chan = g_o.channels[ch];
    std::string path = replace_all(g_pub_url.path, "{channel}", chan);
    int64_t sched = start_wall + offset, sent = wall_us();
    std::string body = replace_all(g_o.pub_body, "{seq}", std::to_string(k));
    body = replace_all(body, "{sent_us}", std::to_string(sent));
    body = replace_all(body, "{sched_us}", std::to_string(sched));
    body = replace_all(body, "{channel}", chan);
    size_t base = body.size() - (body.find("{pad}") != std::string::npos ? 5 : 0);
    body = replace_all(
        body, "{pad}",
        g_o.payload_bytes > (int)base ? std::string(g_o.payload_bytes - base, 'x') : "");
    std::string req = "POST " + path + " HTTP/1.1\r\nHost: " + g_pub_url.hostport + "\r\n";
    for (auto& h : g_o.pub_headers) req += h + "\r\n";
    req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
    // highest k whose send has started (threads take k in schedule order, so this is nearly exact)
    for (int cur = g_dispatched.load(); cur < k && !g_dispatched.compare_exchange_weak(cur, k);) {
    }
    r->sent++;
    int status = -1;
    bool keep = false;
    for (int attempt = 0; attempt < 2 && status < 0;
         attempt++) {  // one retry on a stale keep-alive
      if (fd < 0) fd = pub_connect();
      if (fd < 0) break;
      size_t off = 0;
      while (off < req.size()) {
        ssize_t w = write(fd, req.data() + off, req.size() - off);
        if (w <= 0) break;
        off += w;
      }
      status = off == req.size() ? read_response(fd, keep) : -1;
      if (status < 0 || !keep) {
        close(fd);
        fd = -1;
      }
    }
    int64_t done = wall_us();
    bool ok = status >= 200 && status < 300;
    (*g_pub_state)[k - 1].store(ok ? 1 : 2);
    {
      std::lock_guard<std::mutex> lk(r->mu);
      r->rtt_us.push_back((uint32_t)(done - sent));
      if (!r->first_send || sent < r->first_send) r->first_send = sent;
      r->last_send = std::max(r->last_send, sent);
      if (!ok && !r->first_bad_status) r->first_bad_status = status;
    }
    (ok ? r->ok : r->errors)++;
  }
  if (fd >= 0) close(fd);
  r->done_threads++;
}

// ---------------------------------------------------------------- summary
static std::string pct(std::vector<uint32_t> v) {
  if (v.empty()) return "null";
  std::sort(v.begin(), v.end());
  auto q = [&](double p) {
    size_t i = (size_t)std::ceil(p / 100.0 * v.size());
    if (i) i--;
    return v[std::min(i, v.size() - 1)];
  };
  double sum = 0;
  for (auto x : v) sum += x;
  char b[320];
  snprintf(b, sizeof b,
           "{\"p50\":%u,\"p90\":%u,\"p99\":%u,\"p999\":%u,\"max\":%u,\"mean\":%.1f,\"n\":%zu}",
           q(50), q(90), q(99), q(99.9), v.back(), sum / v.size(), v.size());
  return b;
}

int main(int argc, char** argv) {
  parse_opts(argc, argv);
  const Opts& o = g_o;
  signal(SIGPIPE, SIG_IGN);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  signal(SIGALRM, on_alarm);
  alarm((unsigned)o.max_runtime_s + 15);
  int64_t t0 = mono_us(), deadline = t0 + int64_t(o.max_runtime_s * 1e6);

  g_T = (int)o.channels.size();
  g_K = o.subs_per_channel;
  g_M = o.messages;
  g_storm_mode = o.storm_at_s > 0;
  const int N = g_T * g_K;
  rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  if ((rlim_t)N + 64 > rl.rlim_max)
    fprintf(stderr, "live-driver: warning: %d subscribers but RLIMIT_NOFILE %lu\n", N,
            (unsigned long)rl.rlim_max);

  g_sub_url = parse_url(o.sub_url);
  g_pub_url = parse_url(o.pub_url);
  g_subs.resize(N);
  for (int i = 0; i < N; i++) g_subs[i].channel = i % g_T;  // subscriber i follows channel i % T
  g_got.assign((size_t)N * g_M, 0);
  std::vector<std::atomic<uint8_t>> pub_state(g_T * g_M);
  for (auto& x : pub_state) x.store(0);
  g_pub_state = &pub_state;
  g_ep = epoll_create1(EPOLL_CLOEXEC);

  ProcSample m0 = sample(o.server_pids);
  fprintf(stderr,
          "live-driver: %d channels x %d subscribers, %d messages per channel at %.1f/s in all\n",
          g_T, g_K, g_M, o.rate);
  // ---- connect
  int64_t c0 = mono_us();
  size_t next = 0;
  while (!g_stop && mono_us() < std::min<int64_t>(deadline, c0 + 60'000'000)) {
    while (next < g_subs.size() && g_inflight < o.connect_concurrency) start_connect(next++, false);
    if (next == g_subs.size() && g_inflight == 0) break;
    pump(10);
  }
  for (auto& s : g_subs)
    if (s.state == S_CONNECTING || s.state == S_HEADERS) fail_sub(s);
  for (size_t i = next; i < g_subs.size(); i++) {
    g_subs[i].state = S_FAILED;
    g_connect_failed++;
  }
  int64_t connect_ms = (mono_us() - c0) / 1000;
  int64_t settle_end = mono_us() + int64_t(o.settle_s * 1e6);
  while (!g_stop && mono_us() < settle_end) pump(20);
  std::vector<uint8_t> connected_at_publish(N, 0);
  int connected = 0;
  for (int i = 0; i < N; i++)
    if (g_subs[i].state == S_STREAM) {
      connected_at_publish[i] = 1;
      connected++;
    }
  fprintf(stderr, "live-driver: connected %d/%d in %" PRId64 " ms\n", connected, N, connect_ms);
  ProcSample m1 = sample(o.server_pids);

  // ---- publish (and the storm)
  PubResult pr;
  double ccpu0 = self_cpu_s();
  int64_t p0 = mono_us();
  std::vector<std::thread> threads;
  if (connected > 0) {
    int64_t sm = p0 + 20000, sw = wall_us() + 20000;
    for (int t = 0; t < o.pub_conns; t++) threads.emplace_back(publisher, t, sm, sw, deadline, &pr);
  }
  int64_t storm_at = g_storm_mode ? p0 + int64_t(o.storm_at_s * 1e6) : 0;
  int dropped = 0, dispatched_at_drop = 0;
  size_t storm_next = 0;
  std::vector<size_t> to_resume;
  int64_t drain_end = 0;
  while (connected > 0 && !g_stop && mono_us() < deadline) {
    int64_t now = mono_us();
    if (storm_at && now >= storm_at && !g_drop_mono) {
      // drop every open stream at once
      for (size_t i = 0; i < g_subs.size(); i++)
        if (g_subs[i].state == S_STREAM) {
          close_sub(g_subs[i], S_CLOSED);
          to_resume.push_back(i);
        }
      dropped = g_dropped = (int)to_resume.size();
      dispatched_at_drop = g_dispatched.load();
      g_drop_mono = mono_us();
      fprintf(stderr, "live-driver: dropped %d streams after message %d\n", dropped,
              dispatched_at_drop);
    }
    while (storm_next < to_resume.size() && g_inflight < o.storm_concurrency)
      start_connect(to_resume[storm_next++], true);
    pump(10);
    if (pr.done_threads.load() == (int)threads.size()) {
      if (!drain_end) drain_end = mono_us() + int64_t(o.drain_s * 1e6);
      uint64_t expect = 0;
      for (int k = 1; k <= g_T * g_M; k++)
        if (pub_state[k - 1].load() == 1) expect += g_K;  // an upper bound, refined below
      bool storm_done =
          !storm_at || (g_drop_mono && storm_next == to_resume.size() && g_inflight == 0);
      if ((g_received >= expect && storm_done) || mono_us() >= drain_end) break;
    }
  }
  g_stop = 1;
  for (auto& th : threads) th.join();
  int64_t publish_ms = (mono_us() - p0) / 1000;
  double ccpu1 = self_cpu_s();
  ProcSample m2 = sample(o.server_pids);

  // ---- accounting: every message published OK, to every subscriber connected when publishing
  // began
  uint64_t expected = 0, lost = 0;
  int subs_with_loss = 0;
  for (int i = 0; i < N; i++) {
    if (!connected_at_publish[i]) continue;
    bool any = false;
    for (int m = 0; m < g_M; m++) {
      int k = m * g_T + g_subs[i].channel + 1;
      if (pub_state[k - 1].load() != 1) continue;
      expected++;
      if (!g_got[(size_t)i * g_M + m]) {
        lost++;
        any = true;
      }
    }
    subs_with_loss += any;
  }
  std::vector<uint32_t> catchup;
  int not_caught_up = 0;
  if (g_drop_mono)
    for (size_t i : to_resume) {
      if (g_subs[i].caught_up)
        catchup.push_back((uint32_t)((g_subs[i].caught_up_us - g_drop_mono) / 1000));
      else
        not_caught_up++;
    }
  for (auto& s : g_subs)
    if (s.fd >= 0) close_sub(s, S_CLOSED);

  std::string out = "{\"tool\":\"live-driver\",\"label\":\"" + o.label + "\"";
  char b[2048];
  snprintf(
      b, sizeof b,
      ",\"channels\":%d,\"subs_per_channel\":%d,\"subs\":%d,\"connected\":%d,\"connect_failed\":%d,"
      "\"http_errors\":%d,\"first_bad_status\":%d,\"connect_ms\":%" PRId64
      ",\"messages\":%d,\"rate\":%.1f,"
      "\"published\":%d,\"publish_ok\":%d,\"publish_errors\":%d,\"publish_first_bad_status\":%d,"
      "\"deliveries_expected\":%" PRIu64 ",\"deliveries_received\":%" PRIu64 ",\"lost\":%" PRIu64
      ",\"subs_with_loss\":%d,\"duplicates\":%" PRIu64 ",\"out_of_order\":%" PRIu64
      ",\"wrong_channel\":%" PRIu64 ",\"foreign_events\":%" PRIu64 ",\"negative_latency\":%" PRIu64
      ",\"disconnects_during_run\":%d",
      g_T, g_K, N, connected, g_connect_failed, g_http_errors, g_first_bad_status, connect_ms,
      g_T * g_M, o.rate, pr.sent.load(), pr.ok.load(), pr.errors.load(), pr.first_bad_status,
      expected, g_received, lost, subs_with_loss, g_dups, g_ooo, g_wrong_channel, g_foreign,
      g_negative, g_disconnects);
  out += b;
  out += ",\"event_types\":{";
  bool first = true;
  for (auto& [k, v] : g_types) {
    out += (first ? "\"" : ",\"") + k + "\":" + std::to_string(v);
    first = false;
  }
  out += "}";
  out += ",\"latency_us\":" + pct(g_lat);
  out += ",\"latency_from_schedule_us\":" + pct(g_lat_sched);
  out += ",\"publish_rtt_us\":" + pct(pr.rtt_us);
  double span = (pr.last_send - pr.first_send) / 1e6;
  snprintf(b, sizeof b, ",\"pub_conns\":%d,\"achieved_rate\":%.2f", o.pub_conns,
           span > 0 && pr.sent.load() > 1 ? (pr.sent.load() - 1) / span : 0.0);
  out += b;
  if (g_drop_mono) {
    snprintf(b, sizeof b,
             ",\"storm\":{\"dropped\":%d,\"after_message\":%d,\"reconnected\":%d,\"reconnect_"
             "failed\":%d,"
             "\"reconnect_all_ms\":%" PRId64 ",\"not_caught_up\":%d,\"catchup_ms\":",
             dropped, dispatched_at_drop, g_reconnected, g_reconnect_failed,
             g_reconnected_all_us ? (g_reconnected_all_us - g_drop_mono) / 1000 : -1,
             not_caught_up);
    out += b + pct(catchup) + "}";
  }
  snprintf(b, sizeof b,
           ",\"server\":{\"rss_kb\":{\"before\":%ld,\"connected\":%ld,\"after_publish\":%ld},"
           "\"rss_bytes_per_conn\":%.0f,\"cpu_s_connect\":%.3f,\"cpu_s_publish\":%.3f}"
           ",\"client\":{\"cpu_s_publish\":%.3f},\"publish_phase_ms\":%" PRId64
           ",\"runtime_s\":%.2f}",
           m0.rss_kb, m1.rss_kb, m2.rss_kb,
           connected ? (m1.rss_kb - m0.rss_kb) * 1024.0 / connected : 0.0, m1.cpu_s - m0.cpu_s,
           m2.cpu_s - m1.cpu_s, ccpu1 - ccpu0, publish_ms, (mono_us() - t0) / 1e6);
  out += b;
  printf("%s\n", out.c_str());
  fflush(stdout);
  return connected > 0 && pr.ok.load() > 0 ? 0 : 1;
}
