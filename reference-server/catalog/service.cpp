#include "catalog/service.hpp"

#include <paaskit/core/ascii.hpp>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace paaskit::server {

namespace {

boost::json::object summary_of(const store::service_record& s)
{
    const auto& d = s.definition;
    boost::json::array plans;
    for (const auto& p : d.plans) {
        boost::json::array companions;
        for (const auto& c : d.companions)
            if (!c.optional || std::find(p.companions.begin(), p.companions.end(), c.name) != p.companions.end())
                companions.emplace_back(c.name);
        plans.push_back(boost::json::object{{"id", p.id},
                                            {"name", p.name},
                                            {"monthlyPrice", p.monthly_price},
                                            {"storage", p.storage},
                                            {"companions", std::move(companions)}});
    }
    return {{"id", s.id.to_string()}, {"slug", d.slug},       {"name", d.name},         {"category", d.category},
            {"description", d.description}, {"icon", d.icon}, {"version", d.app.version}, {"plans", std::move(plans)}};
}

} // namespace

boost::json::object services_page(const std::vector<const catalog_entry*>& matching, std::int64_t page, std::int64_t per_page)
{
    boost::json::array items;
    const auto total = static_cast<std::int64_t>(matching.size());
    for (std::int64_t i = (page - 1) * per_page; i < std::min(total, page * per_page); ++i)
        items.push_back(matching[static_cast<std::size_t>(i)]->summary);
    return {{"items", std::move(items)}, {"page", page}, {"per_page", per_page}, {"total", total},
            {"pages", (total + per_page - 1) / per_page}};
}

service_catalog::service_catalog() : current_(std::make_shared<const catalog_snapshot>()) {}

boost::asio::awaitable<core::result<void>> service_catalog::reload(pg::connection& c)
{
    auto listing = co_await store::list_services(c);
    if (!listing)
        co_return listing.error();
    auto next = std::make_shared<catalog_snapshot>();
    next->revision = listing->revision;
    next->etag = "\"catalog-" + std::to_string(listing->revision) + "\"";
    next->services = std::move(listing->services);
    std::map<std::string, std::int64_t> categories;
    for (const auto& s : next->services) {
        if (s.status != store::service_status::active)
            continue;
        catalog_entry entry{&s, summary_of(s),
                            core::ascii_lower(s.definition.slug + "\n" + s.definition.name + "\n" + s.definition.category + "\n"
                                  + s.definition.description)};
        boost::json::object detail = entry.summary;
        detail["definition"] = s.definition_json;
        next->detail_bodies.emplace(s.definition.slug, boost::json::serialize(detail));
        ++categories[s.definition.category];
        next->active.push_back(std::move(entry));
    }
    std::vector<const catalog_entry*> all;
    for (const auto& entry : next->active)
        all.push_back(&entry);
    next->default_list_body = boost::json::serialize(services_page(all, 1, default_services_per_page));
    boost::json::array category_list;
    for (const auto& [name, count] : categories)
        category_list.push_back(boost::json::object{{"category", name}, {"count", count}});
    next->categories_body = boost::json::serialize(boost::json::object{{"items", std::move(category_list)}});
    install(std::move(next));
    co_return core::result<void>{};
}

void service_catalog::install(std::shared_ptr<const catalog_snapshot> next)
{
    // Two reloads may finish out of order: the snapshot with the higher revision stays.
    auto current = current_.load();
    while (current->revision < next->revision || current->etag.empty()) {
        if (current_.compare_exchange_weak(current, next))
            return;
    }
}

} // namespace paaskit::server
