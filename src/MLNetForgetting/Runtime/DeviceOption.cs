namespace MLNetForgetting.Runtime;

/// <summary>Which device a component computes on. Resolved once by <see cref="TorchDevices.Resolve"/>.</summary>
public enum DeviceOption
{
    /// <summary>CUDA when a CUDA build of libtorch and a GPU are present, otherwise the CPU.</summary>
    Auto,
    /// <summary>Always the CPU.</summary>
    Cpu,
    /// <summary>CUDA device 0; falls back to the CPU with a notice when CUDA is unavailable
    /// (the default package set ships CPU natives only; build with <c>-p:TorchDevice=cuda</c> for CUDA).</summary>
    Cuda,
}
