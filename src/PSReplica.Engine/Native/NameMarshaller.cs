using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;

namespace PSReplica.Engine.Native;

/// <summary>Passes a path or name to a system call as its exact bytes (<see cref="NameCodec"/>), NUL-terminated: the
/// marshaller of every string argument of <see cref="LinuxCalls"/> and <see cref="PosixXattr"/>, in place of
/// StringMarshalling.Utf8, which would turn a byte that is not UTF-8 into U+FFFD's three bytes and so name another file.</summary>
[CustomMarshaller(typeof(string), MarshalMode.ManagedToUnmanagedIn, typeof(ManagedToUnmanagedIn))]
internal static unsafe class NameMarshaller
{
    public ref struct ManagedToUnmanagedIn
    {
        private byte* _native;
        private bool _allocated;

        /// <summary>Paths of up to this many bytes are passed from the caller's stack.</summary>
        public static int BufferSize => 512;

        public void FromManaged(string? managed, Span<byte> buffer)
        {
            _allocated = false;
            if (managed is null)
            {
                _native = null;
                return;
            }

            int count = NameCodec.GetByteCount(managed);
            if (count + 1 > buffer.Length)
            {
                buffer = new Span<byte>(NativeMemory.Alloc((nuint)count + 1), count + 1);
                _allocated = true;
            }

            int written = NameCodec.GetBytes(managed, buffer);
            buffer[written] = 0;
            _native = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(buffer));
        }

        public readonly byte* ToUnmanaged() => _native;

        public readonly void Free()
        {
            if (_allocated)
            {
                NativeMemory.Free(_native);
            }
        }
    }
}
