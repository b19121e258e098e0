// C++ against libc++: std::string, std::vector, std::map, virtual functions, static
// constructors, templates (comdats), without exceptions.
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

struct Shape {
    virtual ~Shape() = default;
    virtual double area() const = 0;
    virtual std::string name() const { return "shape"; }
};

struct Square : Shape {
    double side;
    explicit Square(double s) : side(s) {}
    double area() const override { return side * side; }
    std::string name() const override { return "square"; }
};

struct Circle : Shape {
    double r;
    explicit Circle(double radius) : r(radius) {}
    double area() const override { return 3.0 * r * r; }
};

template <typename T> T sum(const std::vector<T> &v) {
    T total{};
    for (const T &x : v) total += x;
    return total;
}

struct Registry {
    std::map<std::string, int> counts;
    Registry() { counts["constructed"] = 1; }
    ~Registry() { std::printf("registry destroyed with %zu keys\n", counts.size()); }
};

static Registry registry;
static std::string greeting = std::string("hello, ") + "world";

int main() {
    std::vector<std::unique_ptr<Shape>> shapes;
    for (int i = 1; i <= 4; i++) {
        if (i % 2) shapes.push_back(std::make_unique<Square>(i));
        else shapes.push_back(std::make_unique<Circle>(i));
    }
    std::vector<double> areas;
    for (const auto &s : shapes) {
        areas.push_back(s->area());
        registry.counts[s->name()]++;
    }
    std::printf("%s: areas sum %.1f ints sum %d\n", greeting.c_str(), sum(areas),
                sum(std::vector<int>{1, 2, 3, 4, 5}));
    for (const auto &kv : registry.counts) std::printf("  %s=%d\n", kv.first.c_str(), kv.second);
    std::string s;
    for (int i = 0; i < 20; i++) s += std::to_string(i);
    std::printf("%s (%zu)\n", s.c_str(), s.size());
    return static_cast<int>(shapes.size());
}
