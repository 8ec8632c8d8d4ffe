using TorchSharp;

namespace MLNetForgetting.Runtime;

/// <summary>The one place that turns a <see cref="DeviceOption"/> into a torch device.</summary>
internal static class TorchDevices
{
    /// <summary>
    /// Resolves <paramref name="option"/>. <see cref="DeviceOption.Cuda"/> without a usable CUDA runtime
    /// (CPU natives, no GPU, no driver) gives the CPU and raises <paramref name="notice"/>; without a
    /// callback the notice goes to standard error, because silently training on the CPU when a GPU was
    /// asked for costs hours. <see cref="DeviceOption.Auto"/> picks CUDA when available, quietly.
    /// </summary>
    public static torch.Device Resolve(DeviceOption option, Action<string>? notice = null)
    {
        TorchRuntime.EnsureInitialized();
        switch (option)
        {
            case DeviceOption.Cpu:
                return torch.CPU;
            case DeviceOption.Auto:
                return CudaAvailable() ? torch.CUDA : torch.CPU;
            case DeviceOption.Cuda:
                if (CudaAvailable()) return torch.CUDA;
                string message = "MLNetForgetting: device Cuda was requested but CUDA is not available "
                    + "(this build uses the CPU libtorch natives, or no GPU/driver is present); computing on the CPU instead. "
                    + "Build with -p:TorchDevice=cuda on a machine with a CUDA GPU to use it.";
                if (notice is not null) notice(message); else Console.Error.WriteLine(message);
                return torch.CPU;
            default:
                throw new ArgumentOutOfRangeException(nameof(option), option, "Unknown device option.");
        }
    }

    /// <summary>True when libtorch reports a usable CUDA device.</summary>
    public static bool CudaAvailable()
    {
        TorchRuntime.EnsureInitialized();
        try { return torch.cuda.is_available(); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or InvalidOperationException)
        {
            // CPU-only natives can lack the CUDA entry points; that simply means "no CUDA".
            return false;
        }
    }
}
