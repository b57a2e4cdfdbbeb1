// Lifetimes of native objects: a use-counted handle per object and a small
// PhantomReference-based cleaner that frees forgotten objects.
package io.confkit

import com.sun.jna.Pointer
import java.lang.ref.PhantomReference
import java.lang.ref.ReferenceQueue
import java.util.Collections
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.locks.ReentrantLock
import kotlin.concurrent.withLock

/**
 * Owns one native pointer and frees it exactly once.
 *
 * - [withPtr] counts the call as in flight; it fails with
 *   [IllegalStateException] once [close] has started, so no call ever sees a
 *   freed pointer.
 * - [close] is idempotent. It marks the handle closed at once (new calls
 *   fail), waits for the calls in flight to return, then frees the pointer, so
 *   when it returns the native object is gone.
 * - A thread that is itself inside a confkit call (for instance a listener
 *   running inside `invite`, or a listener closing its own session) never
 *   waits: its close only marks the handle, and the last call to leave frees
 *   the pointer. Threads that wait therefore hold no in-flight call, so close
 *   cannot deadlock with calls.
 */
internal class NativeHandle(ptr: Pointer, private val what: String, private val free: (Pointer) -> Unit) {
    private val lock = ReentrantLock()
    private val changed = lock.newCondition()
    private var ptr: Pointer? = ptr
    private var inFlight = 0
    private var closed = false
    private var freed = false

    val isClosed: Boolean get() = lock.withLock { closed }

    fun <T> withPtr(block: (Pointer) -> T): T {
        val p = acquire()
        val active = ACTIVE.get()
        active.add(this)
        try {
            return block(p)
        } finally {
            active.removeAt(active.size - 1)
            release()
        }
    }

    private fun acquire(): Pointer = lock.withLock {
        if (closed) throw IllegalStateException("$what is closed")
        inFlight++
        ptr!!
    }

    private fun release() {
        var toFree: Pointer? = null
        lock.withLock {
            inFlight--
            if (inFlight == 0) {
                if (closed && ptr != null) {
                    toFree = ptr
                    ptr = null
                }
                changed.signalAll()
            }
        }
        toFree?.let { doFree(it) }
    }

    fun close() {
        var toFree: Pointer? = null
        lock.withLock {
            closed = true
            // Inside a confkit call on this thread: never wait (see above).
            if (ACTIVE.get().isNotEmpty() && inFlight > 0) return
            while (inFlight > 0) changed.await()
            if (ptr != null) {
                toFree = ptr
                ptr = null
            } else {
                // Someone else is freeing it right now: return once it is gone.
                while (!freed) changed.await()
            }
        }
        toFree?.let { doFree(it) }
    }

    private fun doFree(p: Pointer) {
        try {
            free(p)
        } finally {
            lock.withLock {
                freed = true
                changed.signalAll()
            }
        }
    }

    companion object {
        /** The handles the current thread is inside a call of (innermost last). */
        private val ACTIVE = object : ThreadLocal<ArrayList<NativeHandle>>() {
            override fun initialValue() = ArrayList<NativeHandle>(4)
        }
    }
}

/**
 * The backstop for objects that were never closed: when the owner becomes
 * phantom-reachable, its handle is closed on the "confkit-cleaner" daemon
 * thread. Built on PhantomReference + ReferenceQueue so it works on every JVM
 * and every Android API level (java.lang.ref.Cleaner needs Java 9 / Android
 * API 33). Closing explicitly is still the rule; this only limits leaks.
 */
internal object NativeCleaner {
    private val queue = ReferenceQueue<Any>()
    private val registered: MutableSet<Registration> =
        Collections.newSetFromMap(ConcurrentHashMap<Registration, Boolean>())

    @Volatile private var started = false

    class Registration(owner: Any, val handle: NativeHandle) : PhantomReference<Any>(owner, queue) {
        /** The owner was closed explicitly: forget it (the reference is never enqueued). */
        fun unregister() {
            if (registered.remove(this)) clear()
        }

        fun clean() {
            if (registered.remove(this)) handle.close()
        }
    }

    fun register(owner: Any, handle: NativeHandle): Registration {
        if (!started) start()
        val r = Registration(owner, handle)
        registered.add(r)
        return r
    }

    /** How many owners are registered and neither closed nor cleaned yet. */
    val pending: Int get() = registered.size

    /** Cleans whatever the garbage collector has already enqueued; returns how many. */
    fun runPending(): Int {
        var n = 0
        while (true) {
            val r = queue.poll() as Registration? ?: return n
            cleanQuietly(r)
            n++
        }
    }

    @Synchronized private fun start() {
        if (started) return
        val t = Thread({
            while (true) {
                try {
                    cleanQuietly(queue.remove() as Registration)
                } catch (e: InterruptedException) {
                    // keep serving: the cleaner lives as long as the process
                }
            }
        }, "confkit-cleaner")
        t.isDaemon = true
        t.start()
        started = true
    }

    private fun cleanQuietly(r: Registration) {
        try {
            r.clean()
        } catch (t: Throwable) {
            Confkit.reportCallbackError(t)
        }
    }
}

/**
 * The base of every public type that owns a native object: [close] is
 * idempotent, calls after it throw [IllegalStateException], concurrent calls
 * and close are safe, and a forgotten object is freed by [NativeCleaner].
 */
abstract class NativeObject internal constructor(ptr: Pointer, what: String, free: (Pointer) -> Unit) :
    java.io.Closeable {
    internal val handle = NativeHandle(ptr, what, free)
    private val registration = NativeCleaner.register(this, handle)

    /** Whether [close] was called. */
    val isClosed: Boolean get() = handle.isClosed

    internal inline fun <T> native(crossinline block: (Pointer) -> T): T = handle.withPtr { block(it) }

    /** Frees the native object (waiting for calls in flight on other threads). Idempotent. */
    override fun close() {
        registration.unregister()
        handle.close()
    }
}
