// ML.NET (5.0.1 and 6.0.0 alike) keeps its model save/load API internal. We compile against publicized
// copies of Microsoft.ML.Core/Data (build/Publicize.targets) and CoreCLR honours this attribute by name,
// so the calls are allowed at run time. See docs/platform.md §5 and docs/mlnet-plumbing.md "Which ML.NET".
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Core")]
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Data")]

namespace System.Runtime.CompilerServices
{
    [AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
    internal sealed class IgnoresAccessChecksToAttribute : Attribute
    {
        public IgnoresAccessChecksToAttribute(string assemblyName) => AssemblyName = assemblyName;
        public string AssemblyName { get; }
    }
}
