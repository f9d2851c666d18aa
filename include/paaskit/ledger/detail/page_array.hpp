#pragma once
// A growable array of trivially copyable values in anonymous memory mappings, for the memory
// engine's large tables. Compared with std::vector it grows by remapping pages instead of copying
// them, and asks for transparent huge pages, which spares the TLB misses that dominate random
// access to gigabyte tables. Falls back to ordinary pages where huge pages are unavailable.

#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

namespace paaskit::ledger::detail {

template <class T>
class page_array {
    static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

public:
    page_array() = default;
    page_array(const page_array&) = delete;
    page_array& operator=(const page_array&) = delete;
    page_array(page_array&& other) noexcept
        : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)),
          capacity_(std::exchange(other.capacity_, 0)), touched_(std::exchange(other.touched_, 0))
    {
    }
    page_array& operator=(page_array&& other) noexcept
    {
        if (this != &other) {
            release();
            data_ = std::exchange(other.data_, nullptr);
            size_ = std::exchange(other.size_, 0);
            capacity_ = std::exchange(other.capacity_, 0);
            touched_ = std::exchange(other.touched_, 0);
        }
        return *this;
    }
    ~page_array() { release(); }

    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    T* data() noexcept { return data_; }
    const T* data() const noexcept { return data_; }
    T& operator[](std::size_t i) noexcept { return data_[i]; }
    const T& operator[](std::size_t i) const noexcept { return data_[i]; }
    T& back() noexcept { return data_[size_ - 1]; }
    const T& back() const noexcept { return data_[size_ - 1]; }
    const T* begin() const noexcept { return data_; }
    const T* end() const noexcept { return data_ + size_; }

    void push_back(const T& value)
    {
        if (size_ == capacity_)
            reserve(capacity_ == 0 ? initial_capacity : capacity_ * 2);
        data_[size_++] = value;
    }

    /// Makes room for one more element and returns where it goes, for a caller that writes it with
    /// stores of its own; the size counts it already.
    T* extend()
    {
        if (size_ == capacity_)
            reserve(capacity_ == 0 ? initial_capacity : capacity_ * 2);
        return data_ + size_++;
    }

    /// Asks for the cache line `lines` lines past the end, which appends will write: for tables
    /// appended through the cache. Past the mapping it asks for nothing (prefetches do not fault).
    void prefetch_for_append(std::size_t lines) const noexcept
    {
        // Integer arithmetic: a pointer beyond the array is not to be formed.
        const std::uintptr_t end = reinterpret_cast<std::uintptr_t>(data_) + size_ * sizeof(T);
        __builtin_prefetch(reinterpret_cast<const void*>(end + lines * 64), 1);
    }

    void pop_back() noexcept
    {
        touched_ = std::max(touched_, size_);
        --size_;
    }

    /// Sets the size; new elements are zero. Pages never written are zero already (the kernel
    /// fills them on first touch), so only elements used before are cleared.
    void resize_zeroed(std::size_t count)
    {
        touched_ = std::max(touched_, size_);
        reserve(count);
        if (count > size_ && touched_ > size_)
            std::memset(static_cast<void*>(data_ + size_), 0, (std::min(count, touched_) - size_) * sizeof(T));
        size_ = count;
        touched_ = std::max(touched_, size_);
    }

    /// Makes room for `count` elements; `prefault` also has the kernel back the new pages now, so
    /// that the first writes to them do not stop for page faults.
    void reserve(std::size_t count, bool prefault = false)
    {
        if (count <= capacity_)
            return;
        const std::size_t old_bytes = round_up(capacity_ * sizeof(T));
        const std::size_t bytes = round_up(count * sizeof(T));
        void* mapped = nullptr;
        if (data_ == nullptr) {
            mapped = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        } else {
            mapped = ::mremap(data_, round_up(capacity_ * sizeof(T)), bytes, MREMAP_MAYMOVE);
        }
        if (mapped == MAP_FAILED)
            throw std::bad_alloc();
        ::madvise(mapped, bytes, MADV_HUGEPAGE);
        data_ = static_cast<T*>(mapped);
        capacity_ = bytes / sizeof(T);
        if (prefault)
            populate(reinterpret_cast<char*>(mapped) + old_bytes, bytes - old_bytes);
    }

    /// Has the kernel back every page of the current capacity now (see `reserve`).
    void prefault() noexcept
    {
        if (data_ != nullptr)
            populate(reinterpret_cast<char*>(data_), round_up(capacity_ * sizeof(T)));
    }

    void clear() noexcept
    {
        touched_ = std::max(touched_, size_);
        size_ = 0;
    }

private:
    static constexpr std::size_t initial_capacity = 4096;
    static constexpr std::size_t page = 4096;

    static std::size_t round_up(std::size_t bytes) noexcept { return (bytes + page - 1) / page * page; }

    static void populate(char* first, std::size_t bytes) noexcept
    {
#ifdef MADV_POPULATE_WRITE
        if (::madvise(first, bytes, MADV_POPULATE_WRITE) == 0)
            return;
#endif
        // Kernels before 5.14: touch every page (they are zero, so writing zero changes nothing).
        for (std::size_t at = 0; at < bytes; at += page)
            reinterpret_cast<volatile char*>(first)[at] = 0;
    }

    void release() noexcept
    {
        if (data_ != nullptr)
            ::munmap(data_, round_up(capacity_ * sizeof(T)));
        data_ = nullptr;
        size_ = capacity_ = touched_ = 0;
    }

    T* data_ = nullptr;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
    std::size_t touched_ = 0; // elements [0, max(touched_, size_)) may have been written
};

} // namespace paaskit::ledger::detail
