#include "http/response_stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <charconv>

namespace paaskit::server {

asio::awaitable<bool> response_stream::write(std::string_view text)
{
    if (gone_)
        co_return false;
    if (text.empty())
        co_return true; // an empty chunk would end the body
    frame_.clear();
    if (chunked_) {
        char size[20];
        const auto end = std::to_chars(size, size + sizeof size, text.size(), 16).ptr;
        frame_.append(size, end).append("\r\n").append(text).append("\r\n");
    } else {
        frame_.append(text);
    }
    hooks_.write_started();
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(frame_), asio::as_tuple(asio::use_awaitable));
    hooks_.write_finished();
    if (ec)
        client_left();
    co_return !ec;
}

asio::awaitable<void> response_stream::finish()
{
    if (gone_ || !chunked_)
        co_return;
    frame_ = "0\r\n\r\n";
    hooks_.write_started();
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(frame_), asio::as_tuple(asio::use_awaitable));
    hooks_.write_finished();
    (void)ec; // closed next either way
}

void response_stream::on_client_gone(std::function<void()> f)
{
    if (gone_)
        f();
    else
        on_gone_.push_back(std::move(f));
}

void response_stream::client_left()
{
    if (gone_)
        return;
    gone_ = true;
    auto handlers = std::move(on_gone_);
    on_gone_.clear();
    for (auto& f : handlers)
        f();
}

} // namespace paaskit::server
