#include "subscriptions/tenant_directory.hpp"

namespace paaskit::server {

tenant_directory::snapshot::snapshot(std::vector<tenant> tenants) : tenants_(std::move(tenants))
{
    by_namespace_.reserve(tenants_.size());
    for (const auto& t : tenants_) {
        by_namespace_.emplace(t.namespace_name, &t);
        by_user_[t.user_id].push_back(&t);
    }
}

const tenant_directory::tenant* tenant_directory::snapshot::owner_of(std::string_view ns) const noexcept
{
    const auto found = by_namespace_.find(ns);
    return found != by_namespace_.end() ? found->second : nullptr;
}

const std::vector<const tenant_directory::tenant*>& tenant_directory::snapshot::of(const core::uuid& user) const noexcept
{
    static const std::vector<const tenant*> none;
    const auto found = by_user_.find(user);
    return found != by_user_.end() ? found->second : none;
}

void tenant_directory::listen(boost::asio::any_io_executor executor, std::string conninfo)
{
    listener_ = pg::listener::start(std::move(executor), {.conninfo = std::move(conninfo), .channel = std::string(changes_channel)},
                                    {.notified = [this](const pg::notification&) { changed(); },
                                     // Whatever changed while the subscription was down went unheard.
                                     .subscribed = [this] { changed(); }});
}

void tenant_directory::stop() noexcept
{
    if (listener_)
        listener_->stop();
}

boost::asio::awaitable<core::result<std::vector<tenant_directory::tenant>>> tenant_directory::load()
{
    auto conn = co_await pool_->acquire();
    if (!conn)
        co_return conn.error();
    co_return co_await subscription_store::tenants(**conn, std::nullopt);
}

boost::asio::awaitable<core::result<tenant_directory::snapshot_ptr>> tenant_directory::current()
{
    const bool remember = remembering();
    const auto wanted = changes_.load(); // before the read: a change during it makes it stale again
    if (remember) {
        const std::lock_guard lock(mutex_);
        if (held_ && (held_changes_ == wanted || loading_))
            co_return held_;
        loading_ = true;
    }
    auto read = co_await load();
    snapshot_ptr loaded;
    if (read)
        loaded = std::make_shared<const snapshot>(std::move(*read));
    if (remember) {
        const std::lock_guard lock(mutex_);
        loading_ = false;
        if (loaded && (!held_ || wanted >= held_changes_)) {
            held_ = loaded;
            held_changes_ = wanted;
        }
    }
    if (!loaded)
        co_return read.error();
    co_return loaded;
}

} // namespace paaskit::server
