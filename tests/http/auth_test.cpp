#include "http/auth.hpp"

#include <gtest/gtest.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <memory>

#include "http/message.hpp"

namespace vigil::http {
namespace {

constexpr char kSecret[] = "auth-test-secret-0123456789abcdefghijklmn";
constexpr int64_t kNowMs = 1'700'000'000'000;
constexpr int64_t kNow = kNowMs / 1000;

std::string Base64Url(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(n >> shift) & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    for (int shift : {18, 12}) out += kAlphabet[(n >> shift) & 63];
  } else if (i + 2 == in.size()) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    for (int shift : {18, 12, 6}) out += kAlphabet[(n >> shift) & 63];
  }
  return out;
}

// Signs `claims` exactly as given with `alg`, through libjwt.
std::string Sign(const boost::json::object& claims, jwt_alg_t alg = JWT_ALG_HS256,
                 std::string_view secret = kSecret) {
  jwt_t* jwt = nullptr;
  EXPECT_EQ(jwt_new(&jwt), 0);
  std::unique_ptr<jwt_t, void (*)(jwt_t*)> owner(jwt, jwt_free);
  EXPECT_EQ(jwt_add_grants_json(jwt, boost::json::serialize(claims).c_str()), 0);
  EXPECT_EQ(jwt_set_alg(jwt, alg, reinterpret_cast<const unsigned char*>(secret.data()),
                        static_cast<int>(secret.size())),
            0);
  char* encoded = jwt_encode_str(jwt);
  EXPECT_NE(encoded, nullptr);
  std::string token = encoded != nullptr ? encoded : "";
  std::free(encoded);
  return token;
}

// A token whose header names the algorithm `alg_name` exactly as given (libjwt would write its
// own spelling), signed with HS256 over `secret`, or with RS256 by `private_pem` when given.
std::string SignAs(std::string_view alg_name, const boost::json::object& claims,
                   std::string_view secret = kSecret, const std::string& private_pem = "") {
  std::string input = Base64Url(R"({"alg":")" + std::string(alg_name) + R"(","typ":"JWT"})") + "." +
                      Base64Url(boost::json::serialize(claims));
  std::string signature;
  if (private_pem.empty()) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_size = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_size);
    signature.assign(reinterpret_cast<const char*>(mac), mac_size);
  } else {
    std::unique_ptr<BIO, void (*)(BIO*)> bio(
        BIO_new_mem_buf(private_pem.data(), static_cast<int>(private_pem.size())), BIO_free_all);
    std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key(
        PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    size_t size = 0;
    EXPECT_EQ(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()), 1);
    EXPECT_EQ(EVP_DigestSign(ctx.get(), nullptr, &size,
                             reinterpret_cast<const unsigned char*>(input.data()), input.size()),
              1);
    signature.resize(size);
    EXPECT_EQ(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                             reinterpret_cast<const unsigned char*>(input.data()), input.size()),
              1);
    signature.resize(size);
  }
  return input + "." + Base64Url(signature);
}

boost::json::object Claims(boost::json::value roles = boost::json::array{"read"}) {
  return {{"sub", "alice"}, {"roles", roles}, {"iat", kNow}, {"exp", kNow + 3600}};
}

class AuthTest : public ::testing::Test {
 protected:
  AuthTest() : clock_(kNowMs), auth_(kSecret, clock_, 30) {}

  // The error message, or "ok".
  std::string Refusal(std::string_view token) {
    auto principal = auth_.Verify(token);
    if (principal) return "ok";
    EXPECT_EQ(principal.error().code, ErrorCode::kUnauthenticated) << principal.error().message;
    return principal.error().message;
  }

  ManualClock clock_;
  Authenticator auth_;
};

TEST_F(AuthTest, AcceptsAMintedToken) {
  auto token = MintToken(kSecret, "alice", {"read"}, 600, kNowMs);
  ASSERT_TRUE(token.has_value());
  auto principal = auth_.Verify(*token);
  ASSERT_TRUE(principal.has_value()) << principal.error().message;
  EXPECT_EQ(principal->subject, "alice");
  EXPECT_TRUE(principal->can_read);
  EXPECT_FALSE(principal->can_write);
  EXPECT_FALSE(principal->is_admin);
}

TEST_F(AuthTest, MapsRoles) {
  auto roles_of = [&](std::vector<std::string> roles) {
    auto token = MintToken(kSecret, "bob", roles, 600, kNowMs);
    EXPECT_TRUE(token.has_value());
    auto p = auth_.Verify(token.value_or(""));
    EXPECT_TRUE(p.has_value()) << p.error().message;
    core::Principal none;
    const core::Principal& q = p ? *p : none;
    return std::string(q.can_read ? "r" : "-") + (q.can_write ? "w" : "-") +
           (q.is_admin ? "a" : "-");
  };
  EXPECT_EQ(roles_of({"read"}), "r--");
  EXPECT_EQ(roles_of({"dev"}), "rw-");
  EXPECT_EQ(roles_of({"admin"}), "rwa");
  EXPECT_EQ(roles_of({"read", "ghost"}), "r--");
}

TEST_F(AuthTest, RefusesAnotherSecret) {
  auto token =
      MintToken("another-secret-0123456789abcdefghijklmnop", "alice", {"admin"}, 600, kNowMs);
  ASSERT_TRUE(token.has_value());
  EXPECT_EQ(Refusal(*token), "malformed or forged token");
}

TEST_F(AuthTest, RefusesATamperedPayload) {
  std::string token = Sign(Claims());
  size_t first = token.find('.');
  size_t second = token.find('.', first + 1);
  std::string forged = token.substr(0, first + 1) +
                       Base64Url(boost::json::serialize(Claims(boost::json::array{"admin"}))) +
                       token.substr(second);
  EXPECT_NE(Refusal(forged), "ok");
}

TEST_F(AuthTest, RefusesAlgNone) {
  std::string header = Base64Url(R"({"alg":"none","typ":"JWT"})");
  std::string payload = Base64Url(boost::json::serialize(Claims(boost::json::array{"admin"})));
  EXPECT_NE(Refusal(header + "." + payload + "."), "ok");
  EXPECT_NE(Refusal(header + "." + payload), "ok");
  // The same with a signature that would be valid for HS256.
  std::string genuine = Sign(Claims(boost::json::array{"admin"}));
  EXPECT_NE(Refusal(header + "." + payload + genuine.substr(genuine.rfind('.'))), "ok");
}

TEST_F(AuthTest, RefusesOtherAlgorithmsEvenWithTheRightSecret) {
  EXPECT_EQ(Refusal(Sign(Claims(), JWT_ALG_HS512)), "token algorithm must be HS256");
  EXPECT_EQ(Refusal(Sign(Claims(), JWT_ALG_HS384)), "token algorithm must be HS256");
  EXPECT_EQ(Refusal(Sign(Claims(), JWT_ALG_HS256)), "ok");
}

// RFC 7515 §4.1.1: `alg` is case-sensitive. libjwt reads "hs256" as HS256; vigil must not.
TEST_F(AuthTest, MatchesTheAlgorithmNameExactly) {
  EXPECT_EQ(Refusal(SignAs("HS256", Claims())), "ok");  // the helper signs correctly
  for (std::string_view name : {"hs256", "hS256", "Hs256", "HS256 ", "HS2560"}) {
    EXPECT_NE(Refusal(SignAs(name, Claims())), "ok") << name;
  }
}

TEST_F(AuthTest, HonoursExpiryWithLeeway) {
  auto claims = Claims();
  claims["exp"] = kNow - 10;  // expired, but within the 30 s leeway
  EXPECT_EQ(Refusal(Sign(claims)), "ok");
  claims["exp"] = kNow - 31;
  EXPECT_EQ(Refusal(Sign(claims)), "token expired");
}

TEST_F(AuthTest, HonoursNotBeforeWithLeeway) {
  auto claims = Claims();
  claims["nbf"] = kNow + 10;
  EXPECT_EQ(Refusal(Sign(claims)), "ok");
  claims["nbf"] = kNow + 60;
  EXPECT_EQ(Refusal(Sign(claims)), "token not yet valid");
  clock_.Advance(31'000);
  EXPECT_EQ(Refusal(Sign(claims)), "ok");
}

TEST_F(AuthTest, RefusesATokenIssuedInTheFuture) {
  auto claims = Claims();
  claims["iat"] = kNow + 600;
  EXPECT_EQ(Refusal(Sign(claims)), "token not yet valid");
}

TEST_F(AuthTest, ACachedTokenStillExpires) {
  auto token = MintToken(kSecret, "alice", {"read"}, 60, kNowMs);
  ASSERT_TRUE(token.has_value());
  EXPECT_EQ(Refusal(*token), "ok");
  EXPECT_EQ(Refusal(*token), "ok");
  clock_.Advance((60 + 30) * 1000);
  EXPECT_EQ(Refusal(*token), "token expired");
  clock_.Set(kNowMs);
  EXPECT_EQ(Refusal(*token), "ok");
}

TEST_F(AuthTest, RequiresASubject) {
  auto claims = Claims();
  claims.erase("sub");
  EXPECT_EQ(Refusal(Sign(claims)), "token has no subject");
  claims["sub"] = "";
  EXPECT_EQ(Refusal(Sign(claims)), "token has no subject");
  claims["sub"] = 42;
  EXPECT_EQ(Refusal(Sign(claims)), "token has no subject");
}

TEST_F(AuthTest, RequiresAnIntegerExpiry) {
  auto claims = Claims();
  claims.erase("exp");
  EXPECT_EQ(Refusal(Sign(claims)), "token has no expiry");
  claims["exp"] = "tomorrow";
  EXPECT_EQ(Refusal(Sign(claims)), "token claim exp is not an integer");
}

TEST_F(AuthTest, ReadsRolesFromAString) {
  auto principal = auth_.Verify(Sign(Claims("read, dev")));
  ASSERT_TRUE(principal.has_value()) << principal.error().message;
  EXPECT_TRUE(principal->can_write);
  EXPECT_FALSE(principal->is_admin);
  principal = auth_.Verify(Sign(Claims("admin")));
  ASSERT_TRUE(principal.has_value()) << principal.error().message;
  EXPECT_TRUE(principal->is_admin);
}

TEST_F(AuthTest, RefusesATokenWithNoKnownRole) {
  EXPECT_EQ(Refusal(Sign(Claims(boost::json::array{"root", "superuser"}))), "token grants no role");
  EXPECT_EQ(Refusal(Sign(Claims("root"))), "token grants no role");
  EXPECT_EQ(Refusal(Sign(Claims(boost::json::array{}))), "token grants no role");
  auto claims = Claims();
  claims.erase("roles");
  EXPECT_EQ(Refusal(Sign(claims)), "token grants no role");
}

TEST_F(AuthTest, RefusesGarbage) {
  EXPECT_NE(Refusal(""), "ok");
  EXPECT_NE(Refusal("abc"), "ok");
  EXPECT_NE(Refusal("a.b.c"), "ok");
  EXPECT_NE(Refusal(std::string(100'000, 'a')), "ok");
}

TEST_F(AuthTest, ReadsTheBearerHeader) {
  auto token = MintToken(kSecret, "carol", {"admin"}, 600, kNowMs);
  ASSERT_TRUE(token.has_value());
  auto with = [&](std::string value) {
    Request request;
    if (!value.empty()) request.headers.emplace_back("authorization", std::move(value));
    auto principal = auth_.Authenticate(request);
    return principal ? principal->subject : principal.error().message;
  };
  EXPECT_EQ(with("Bearer " + *token), "carol");
  EXPECT_EQ(with("bearer " + *token), "carol");
  EXPECT_EQ(with("BEARER   " + *token + "  "), "carol");
  EXPECT_EQ(with(""), "missing bearer token");
  EXPECT_EQ(with("Bearer"), "missing bearer token");
  EXPECT_EQ(with("Bearer   "), "missing bearer token");
  EXPECT_EQ(with("Basic YWxpY2U6cHc="), "missing bearer token");
  EXPECT_EQ(with(*token), "missing bearer token");
}

TEST_F(AuthTest, ChecksIssuerAndAudienceWhenConfigured) {
  Authenticator strict(kSecret, clock_);
  strict.RequireIssuer("https://id.example");
  strict.RequireAudience("vigil");
  boost::json::object good = Claims();
  good["iss"] = "https://id.example";
  good["aud"] = boost::json::array{"other", "vigil"};
  EXPECT_TRUE(strict.Verify(Sign(good)).has_value());
  boost::json::object plain_aud = good;
  plain_aud["aud"] = "vigil";
  EXPECT_TRUE(strict.Verify(Sign(plain_aud)).has_value());

  boost::json::object wrong_iss = good;
  wrong_iss["iss"] = "https://evil.example";
  EXPECT_EQ(strict.Verify(Sign(wrong_iss)).error().message, "token issuer is not accepted");
  boost::json::object no_aud = good;
  no_aud.erase("aud");
  EXPECT_EQ(strict.Verify(Sign(no_aud)).error().message, "token audience is not accepted");
  boost::json::object wrong_aud = good;
  wrong_aud["aud"] = "someone-else";
  EXPECT_FALSE(strict.Verify(Sign(wrong_aud)).has_value());
  // Without the settings, neither claim is looked at.
  EXPECT_TRUE(auth_.Verify(Sign(wrong_iss)).has_value());
}

// A fresh RSA key pair as PEM: {private, public}.
std::pair<std::string, std::string> RsaKeyPair() {
  std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key(EVP_RSA_gen(2048), EVP_PKEY_free);
  auto pem = [](auto write) {
    std::unique_ptr<BIO, int (*)(BIO*)> bio(BIO_new(BIO_s_mem()), BIO_free);
    write(bio.get());
    char* data = nullptr;
    long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(n));
  };
  return {pem([&](BIO* b) {
            PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
          }),
          pem([&](BIO* b) { PEM_write_bio_PUBKEY(b, key.get()); })};
}

TEST_F(AuthTest, VerifiesRs256WithAPublicKeyAndRefusesAlgorithmConfusion) {
  auto [private_pem, public_pem] = RsaKeyPair();
  Authenticator rsa(kSecret, clock_);
  rsa.UsePublicKey(TokenAlgorithm::kRS256, public_pem);
  auto good = rsa.Verify(Sign(Claims(), JWT_ALG_RS256, private_pem));
  ASSERT_TRUE(good.has_value()) << good.error().message;
  EXPECT_EQ(good->subject, "alice");
  // The classic confusion: an HS256 token whose "secret" is the public key.
  EXPECT_EQ(rsa.Verify(Sign(Claims(), JWT_ALG_HS256, public_pem)).error().message,
            "token algorithm must be RS256");
  // A token of the shared secret is no longer accepted, nor one of another key.
  EXPECT_FALSE(rsa.Verify(Sign(Claims())).has_value());
  auto [other_private, other_public] = RsaKeyPair();
  EXPECT_FALSE(rsa.Verify(Sign(Claims(), JWT_ALG_RS256, other_private)).has_value());
  // And the HS256 authenticator refuses the RS256 token.
  EXPECT_NE(Refusal(Sign(Claims(), JWT_ALG_RS256, private_pem)), "ok");
  // The name is matched exactly (RFC 7515 §4.1.1): "rs256" is not RS256.
  EXPECT_TRUE(rsa.Verify(SignAs("RS256", Claims(), "", private_pem)).has_value());
  EXPECT_FALSE(rsa.Verify(SignAs("rs256", Claims(), "", private_pem)).has_value());
  EXPECT_FALSE(rsa.Verify(SignAs("Rs256", Claims(), "", private_pem)).has_value());
}

TEST(MintTokenTest, RefusesAnEmptySubject) {
  auto token = MintToken(kSecret, "", {"read"}, 600, kNowMs);
  ASSERT_FALSE(token.has_value());
  EXPECT_EQ(token.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace vigil::http
