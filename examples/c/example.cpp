// libresonance from C++17: RAII owners for the handle and every result, errors as exceptions.
//
// Build (from the repository root):
//   scripts/build-c.sh
//   c++ -std=c++17 examples/c/example.cpp -o example_cpp $(PKG_CONFIG_PATH=target/debug/pkgconfig pkg-config --cflags --libs resonance)
//   ./example_cpp [path/to/db.sqlite]
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "resonance.h"

namespace res {

// An error from the library: the status, its stable code and the message.
class Error : public std::runtime_error {
  public:
    Error(resonance_status status, const std::string &message)
        : std::runtime_error(std::string(resonance_status_name(status)) + ": " + message), status_(status) {}
    resonance_status status() const { return status_; }
    std::string code() const { return resonance_status_name(status_); }

  private:
    resonance_status status_;
};

// Calls `f(&err)`, frees the message and throws on failure.
template <typename F>
void check(F &&f) {
    char *err = nullptr;
    resonance_status s = f(&err);
    if (s != RESONANCE_OK) {
        std::string message = err ? err : "";
        resonance_string_free(err);
        throw Error(s, message);
    }
}

// Owns one library allocation and frees it with its one free function.
template <typename T, void (*Free)(T *)>
using Owned = std::unique_ptr<T, std::integral_constant<decltype(Free), Free>>;

using Hits = Owned<resonance_hits, resonance_hits_free>;
using Rankings = Owned<resonance_rankings, resonance_rankings_free>;
using Node = Owned<resonance_node, resonance_node_free>;
using Strings = Owned<resonance_strings, resonance_strings_free>;
using Communities = Owned<resonance_communities, resonance_communities_free>;

// A database handle: movable, not copyable; closed and freed by the destructor.
class Database {
  public:
    explicit Database(const std::string &path, resonance_open_options options = {}) {
        check([&](char **err) { return resonance_db_open(path.c_str(), &options, &db_, err); });
    }
    Database(Database &&other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
    Database &operator=(Database &&other) noexcept {
        if (this != &other) {
            resonance_db_free(db_);
            db_ = std::exchange(other.db_, nullptr);
        }
        return *this;
    }
    Database(const Database &) = delete;
    Database &operator=(const Database &) = delete;
    ~Database() { resonance_db_free(db_); }

    void close() {
        check([&](char **err) { return resonance_db_close(db_, err); });
    }

    void upsert(const std::string &id, const std::string &type, const std::vector<float> &embedding) {
        resonance_node_input n{};
        n.id = id.c_str();
        n.node_type = type.c_str();
        n.embedding = embedding.data();
        n.embedding_len = embedding.size();
        check([&](char **err) { return resonance_node_upsert(db_, &n, err); });
    }

    bool add_edge(const std::string &source, const std::string &target) {
        resonance_edge_input e{};
        e.source = source.c_str();
        e.target = target.c_str();
        bool added = false;
        check([&](char **err) { return resonance_edge_add(db_, &e, &added, err); });
        return added;
    }

    Hits search(const std::vector<float> &query, size_t k) {
        resonance_hits *out = nullptr;
        check([&](char **err) { return resonance_vector_search(db_, query.data(), query.size(), k, nullptr, &out, err); });
        return Hits(out);
    }

    Node get(const std::string &id) {
        resonance_node *out = nullptr;
        check([&](char **err) { return resonance_node_get(db_, id.c_str(), true, &out, err); });
        return Node(out);
    }

    Rankings pagerank() {
        resonance_rankings *out = nullptr;
        check([&](char **err) {
            return resonance_graph_pagerank(db_, nullptr, &out, err);  // nullptr: the defaults
        });
        return Rankings(out);
    }

    Communities communities(uint64_t seed) {
        resonance_community_options o = resonance_community_options_default();
        o.seed = seed;
        resonance_communities *out = nullptr;
        check([&](char **err) { return resonance_graph_communities(db_, &o, &out, err); });
        return Communities(out);
    }

    Strings shortest_path(const std::string &from, const std::string &to) {
        resonance_strings *out = nullptr;
        check([&](char **err) { return resonance_graph_shortest_path(db_, from.c_str(), to.c_str(), nullptr, &out, err); });
        return Strings(out);  // empty (nullptr) when unreachable
    }

  private:
    resonance_db *db_ = nullptr;
};

}  // namespace res

int main(int argc, char **argv) {
    const std::string path = argc > 1 ? argv[1] : "example_cpp.db";
    try {
        res::Database db(path);
        db.upsert("rust", "language", {1.0f, 0.2f, 0.0f});
        db.upsert("c", "language", {0.8f, 0.4f, 0.1f});
        db.upsert("sqlite", "library", {0.1f, 0.9f, 0.3f});
        db.add_edge("rust", "c");
        db.add_edge("c", "sqlite");
        db.add_edge("sqlite", "c");

        auto hits = db.search({1.0f, 0.0f, 0.0f}, 3);
        for (size_t i = 0; i < hits->len; i++) std::printf("hit %s %.3f\n", hits->items[i].id, hits->items[i].score);

        auto ranks = db.pagerank();
        for (size_t i = 0; i < ranks->len; i++) std::printf("pagerank %s %.4f\n", ranks->items[i].id, ranks->items[i].score);

        auto comms = db.communities(7);
        std::printf("%zu nodes in communities, modularity %.4f\n", comms->len, comms->modularity);

        auto path_ = db.shortest_path("rust", "sqlite");
        std::printf("path rust -> sqlite has %zu nodes\n", path_ ? path_->len : 0);

        auto node = db.get("rust");
        std::printf("rust: type %s, %zu-d unit embedding\n", node->node_type, node->embedding_len);

        try {
            db.upsert("bad", "x", {1.0f, 0.0f});  // wrong dimension
            return 1;
        } catch (const res::Error &e) {
            std::printf("caught %s\n", e.code().c_str());
            if (e.status() != RESONANCE_DIMENSION_MISMATCH) return 1;
        }

        db.close();
        try {
            db.search({1.0f, 0.0f, 0.0f}, 1);
            return 1;
        } catch (const res::Error &e) {
            std::printf("after close: %s\n", e.code().c_str());
            if (e.status() != RESONANCE_CLOSED) return 1;
        }
    } catch (const std::exception &e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
