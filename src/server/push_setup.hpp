// Issue 15: the push configuration read at start-up: the providers' keys from their files, and the
// push operations' view of them (chat::push_options). The senders are built from push_keys.
//
// Errors name the option whose file is missing or unusable (errc::invalid_field), so that confabd
// can refuse to start with a clear message. Not thread-safe; called once by main.
#pragma once

#include "chat/push_options.hpp"
#include "core/error.hpp"
#include "push/fcm.hpp"
#include "push/keys.hpp"
#include "push/sender.hpp"
#include "server/config.hpp"
#include "server/push_worker.hpp"

#include <optional>

namespace confab::server {

struct push_keys {
  std::optional<push::p256_key> vapid;        // --push-vapid-key
  std::optional<push::service_account> fcm;   // --push-fcm-account
  std::optional<push::p256_key> apns;         // --push-apns-key
};

// Reads the configured key files; a provider without a file stays off.
result<push_keys> load_push_keys(const push_config& c);
// Fills the operations' view: which providers are on, the VAPID public key, the grace period.
void describe_push(const push_config& c, const push_keys& k, chat::push_options& out);
// Whether any provider is configured (a worker is worth running).
bool any_provider(const push_keys& k);

// The senders' configuration, taking the keys. Connections to loopback and private addresses are
// allowed only when the operator pointed push somewhere explicitly (--push-allow-origin, or an
// --push-*-url): stand-ins and private push services; otherwise only public addresses.
push::sender_config sender_config_of(const push_config& c, push_keys k, const push::endpoint_policy& endpoints);
// The worker's transport over s (which must outlive every send the transport starts).
push_transport transport_of(push::sender& s);

}  // namespace confab::server
