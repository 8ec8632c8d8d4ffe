using TorchSharp;

namespace MLNetForgetting.Runtime;

/// <summary>
/// First touch of libtorch. Loads the natives once and sets the intra-op thread count: every core
/// (<see cref="Environment.ProcessorCount"/>) unless the <c>MLNF_TORCH_THREADS</c> environment variable
/// gives a positive number; loads the opt-in <see cref="MklVendorShim"/> first. Idempotent and thread-safe.
/// </summary>
internal static class TorchRuntime
{
    /// <summary>Environment variable that overrides the intra-op thread count.</summary>
    public const string ThreadsVariable = "MLNF_TORCH_THREADS";

    private static readonly Lazy<int> Threads = new(Initialize, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Loads torch and configures threads; cheap after the first call.</summary>
    public static void EnsureInitialized() => _ = Threads.Value;

    /// <summary>The intra-op thread count set at initialisation.</summary>
    public static int IntraOpThreads => Threads.Value;

    private static int Initialize()
    {
        // Touching torch here (not in a static constructor elsewhere) makes a native-loading failure
        // surface at one predictable place with TorchSharp's own message. The opt-in MKL shim has to be
        // in the global symbol scope before libtorch loads.
        MklVendorShim.LoadIfRequested();
        torch.InitializeDeviceType(DeviceType.CPU);
        int threads = Environment.ProcessorCount;
        string? env = Environment.GetEnvironmentVariable(ThreadsVariable);
        if (!string.IsNullOrWhiteSpace(env))
        {
            if (!int.TryParse(env, out int parsed) || parsed < 1)
                throw new InvalidOperationException($"{ThreadsVariable}='{env}' is not a positive integer.");
            threads = parsed;
        }
        torch.set_num_threads(threads);
        return threads;
    }
}
