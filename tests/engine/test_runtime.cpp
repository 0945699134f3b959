// Start-up sanity of the LibTorch runtime LoRA Lab runs on.
#include "engine_test.h"

#include "engine/model/model_loader.h"

#include <ATen/Version.h>
#include <fstream>
#include <torch/torch.h>

using namespace loralab;

class RuntimeTests : public QObject {
    Q_OBJECT
    Q_CLASSINFO("label", "startup")
private Q_SLOTS:
    void blas_is_a_fast_one();
    void thread_count_is_applied();
};
REGISTER_TESTS(RuntimeTests);

void RuntimeTests::blas_is_a_fast_one()
{
    // A LibTorch built with MKL (PyPI's torch) carries it inside. One built
    // against the generic BLAS interface (Debian's) takes whichever libblas the
    // system provides: without libopenblas0-pthread that is the reference BLAS,
    // some thirty times slower. Run a matrix product, then look at which BLAS
    // the process actually mapped.
    const torch::Tensor a = torch::randn({256, 256});
    const torch::Tensor c = a.mm(a);
    QVERIFY(c.isfinite().all().item<bool>());
    if (at::show_config().find("BLAS_INFO=mkl") != std::string::npos) {
        std::cout << "LibTorch carries MKL\n";
        return;
    }
    std::ifstream maps("/proc/self/maps");
    std::string line;
    bool openblas = false;
    bool reference = false;
    while (std::getline(maps, line)) {
        if (line.find("openblas") != std::string::npos) openblas = true;
        if (line.find("/blas/libblas.so") != std::string::npos) reference = true;
    }
    if (!openblas) std::cerr << "LibTorch is not using OpenBLAS: install libopenblas0-pthread\n";
    QVERIFY(openblas);
    QVERIFY(!reference);
}

void RuntimeTests::thread_count_is_applied()
{
    setThreadCount(0);
    QCOMPARE(torch::get_num_threads(), defaultThreadCount());
    setThreadCount(1);
    QCOMPARE(torch::get_num_threads(), 1);
    setThreadCount(0);
}

#include "test_runtime.moc"
