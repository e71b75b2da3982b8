using System.Security.Cryptography;
using System.Text;
using Atomic.Bsv.Primitives.Secp256k1;
using BenchmarkDotNet.Attributes;

namespace Atomic.Bsv.Benchmarks;

/// <summary>ECDSA verify and sign on one fixed key and message, Secp256k1.Net's libsecp256k1 against NBitcoin.Secp256k1.</summary>
[MemoryDiagnoser]
public class Secp256k1Benchmarks
{
    private readonly byte[] _privateKey = Convert.FromHexString("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721");
    private readonly byte[] _hash = SHA256.HashData(Encoding.UTF8.GetBytes("benchmark message"));
    private readonly byte[] _publicKey = new byte[33];
    private readonly byte[] _signature = new byte[64];
    private readonly byte[] _output = new byte[64];
    private ISecp256k1 _secp = Secp256k1Backends.Managed;

    [Params("native", "managed")]
    public string Backend { get; set; } = "native";

    [GlobalSetup]
    public void Setup()
    {
        _secp = Secp256k1Backends.Get(Backend);
        _secp.CreatePublicKey(_privateKey, true, _publicKey);
        _secp.Sign(_hash, _privateKey, _signature);
    }

    [Benchmark]
    public bool Verify() => _secp.Verify(_hash, _signature, _publicKey);

    [Benchmark]
    public void Sign() => _secp.Sign(_hash, _privateKey, _output);
}
