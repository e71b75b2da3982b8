using Atomic.Bsv.Primitives.Secp256k1;
using BenchmarkDotNet.Attributes;

namespace Atomic.Bsv.Benchmarks;

/// <summary>
/// Full P2PKH input validation (script run, FORKID digest, ECDSA verify) over the deterministic fixture, one
/// fresh <see cref="Transactions.SigHashCache"/> per transaction per pass as a real verifier has; reported per input.
/// </summary>
[MemoryDiagnoser]
public class P2pkhValidationBenchmarks
{
    public const int TxCount = 64;
    public const int InputsPerTx = 4;

    private P2pkhFixture? _fixture;
    private ISecp256k1 _secp = Secp256k1Backends.Managed;

    [Params("native", "managed")]
    public string Backend { get; set; } = "native";

    [GlobalSetup]
    public void Setup()
    {
        _secp = Secp256k1Backends.Get(Backend);
        _fixture = P2pkhFixture.Create(TxCount, InputsPerTx, seed: 1, check: _secp);
    }

    [Benchmark(OperationsPerInvoke = TxCount * InputsPerTx)]
    public int ValidateP2pkhInput() => _fixture!.ValidateAll(_secp);
}
