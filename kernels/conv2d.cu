// conv2d.cu: 2-D convolution (cross-correlation, NCHW, square K x K kernel) as implicit GEMM.
//
// Reference: minigan/reference/conv_spec.py (conv2d_forward, conv2d_backward_input,
// conv2d_backward_weight, conv2d_backward_bias). Launch wrappers: minigan/cuda/conv_launch.py.
//
// Each pass is one matrix product  out (M x Ncol) = A (M x Kdim) @ B (Kdim x Ncol)  whose operands
// are gathered from the tensors while loading tiles (no im2col buffer ever exists in memory):
//
//   pass          M   Ncol      Kdim      A[m][k]               B[k][n]
//   forward       F   N*Ho*Wo   C*K*K     w[f, (c,ky,kx)]       x[img, c, oh*s-p+ky, ow*s-p+kx]
//   grad input    C   N*H*W     F*K*K     w[f, c, ky, kx]       gy[img, f, oh, ow] where
//                                                               oh*s = ih+p-ky, ow*s = iw+p-kx
//   grad weight   F   C*K*K     N*Ho*Wo   gy[img, f, oh, ow]    x[img, c, oh*s-p+ky, ow*s-p+kx]
//
// (out-of-range taps read 0: that is the zero padding, and the stride holes of grad input).
//
// Entry points: templates explicitly instantiated at the bottom for T in {float, double} and
// Tile in {TileBig, TileSmallM, TileSmallN} (FMA, exact), and for T = float also Tf32<Tile>
// (tensor cores, operands rounded to TF32; sm_80+). Tiles and the two GEMM main loops live in
// gemm.cuh. NVRTC name expressions look like "conv2d_forward<float, TileBig>",
// "conv2d_backward_weight<float, Tf32<TileBig>>".
//
//   (forward and grad input take TileBig or TileSmallM; grad weight takes all three)
//
//   conv2d_forward<T, Tile>          grid (ceil(N*Ho*Wo / BN), ceil(F / BM)), block Tile::THREADS
//                                    epilogue: + b[f] when has_bias, + residual[img, f, oh, ow]
//                                    when has_residual, then max(0, .) when relu
//   conv2d_backward_input<T, Tile>   grid (ceil(N*H*W / BN), ceil(C / BM)), block Tile::THREADS
//   conv2d_backward_weight<T, Tile>  grid (ceil(C*K*K / BN), ceil(F / BM), splits), block THREADS
//                                    split-K: block z reduces pixels [z*chunk, (z+1)*chunk) and
//                                    writes partial[z] (F, C*K*K); reduce_splits adds the splits
//                                    in a fixed order, so the result is deterministic
//   conv2d_backward_bias<T>          grid (F, splits), block 256 (a multiple of 32):
//                                    partial[z, f] = sum of gy[img, f] over split z's images
//   reduce_splits<T>                 grid ceil(count / 256) (capped), block 256:
//                                    out[i] = sum_z partial[z * count + i]
//
// The host (minigan/cuda) checks that M, Ncol, Kdim, the weight size and every per-image size
// are below 2^31, so GEMM indices and offsets inside one image are 32-bit; only the offset of an
// image in the batch is 64-bit.
#include "gemm.cuh"

struct ConvShape {
    int N, C, H, W;   // input x (N, C, H, W)
    int F, K;         // weight w (F, C, K, K)
    int stride, pad;
    int Ho, Wo;       // output y (N, F, Ho, Wo)
};

// ---------------------------------------------------------------------------------------------
// What forward and grad input share: thread t gathers one pixel column of B (BK values) and the
// elements e = t + l * THREADS of the A tile (row e / BK, depth e % BK), and stashes them alike.

template <typename T, typename Tile>
struct PixelColumnStage {
    static constexpr int BM = Tile::BM, BN = Tile::BN, BK = Tile::BK, THREADS = Tile::THREADS;
    static constexpr int A_LOADS = BM * BK / THREADS;
    static_assert(THREADS == BN, "each thread gathers one pixel column of B");
    static_assert(BM * BK % THREADS == 0, "A tile splits evenly over the threads");

    T a_reg[A_LOADS];
    T b_reg[BK];

    template <typename Convert, int PITCH_A, int PITCH_B>
    __device__ __forceinline__ void stash(T (&As)[BK][PITCH_A], T (&Bs)[BK][PITCH_B]) const {
#pragma unroll
        for (int l = 0; l < A_LOADS; ++l) {
            const int e = (int)threadIdx.x + l * THREADS;
            As[e % BK][e / BK] = Convert::apply(a_reg[l]);
        }
#pragma unroll
        for (int kk = 0; kk < BK; ++kk)
            Bs[kk][threadIdx.x] = Convert::apply(b_reg[kk]);
    }
};

// ---------------------------------------------------------------------------------------------
// Forward: A = w as (F, C*K*K) row-major;
// B column n = output pixel (img, oh, ow), row k = (c, ky, kx).

template <typename T, typename Tile>
struct ForwardLoader : PixelColumnStage<T, Tile> {
    using Stage = PixelColumnStage<T, Tile>;
    using Stage::BM, Stage::BK, Stage::THREADS, Stage::A_LOADS, Stage::a_reg, Stage::b_reg;

    const T* w;
    int F, Kdim, m0;
    // This thread's pixel, and where its K-strip has got to: k = (c * K + ky) * K + kx.
    const T* x_image;     // x[img]
    int pixel_offset;     // ih0 * W + iw0, the offset of tap (0, 0, 0) (negative in the padding)
    int ih0, iw0;         // oh * s - pad, ow * s - pad; ih0 = -2^30 past the last pixel
    int c, ky, kx;
    int tap_offset;       // c * H * W + ky * W + kx, stepped along with (c, ky, kx)
    int C, H, W, K, row_jump, channel_jump;

    __device__ ForwardLoader(const T* x_, const T* w_, const ConvShape& s, int m0_, int n0,
                             const FastDiv& div_howo, const FastDiv& div_wo)
        : w(w_), F(s.F), Kdim(s.C * s.K * s.K), m0(m0_), c(0), ky(0), kx(0), tap_offset(0),
          C(s.C), H(s.H), W(s.W), K(s.K), row_jump(s.W - s.K), channel_jump(s.H * s.W - s.K * s.W) {
        const int n = n0 + (int)threadIdx.x;
        int img = 0, oh = 0, ow = 0, hw = 0;
        if (n < s.N * s.Ho * s.Wo) {
            img = div_howo.divmod(n, &hw);
            oh = div_wo.divmod(hw, &ow);
        }
        x_image = x_ + (i64)img * s.C * s.H * s.W;
        ih0 = oh * s.stride - s.pad;
        iw0 = ow * s.stride - s.pad;
        pixel_offset = ih0 * s.W + iw0;
        if (n >= s.N * s.Ho * s.Wo)
            ih0 = -(1 << 30);   // every tap of a column past the end falls outside the image
    }

    __device__ __forceinline__ void fetch(int k0) {
#pragma unroll
        for (int l = 0; l < A_LOADS; ++l) {
            const int e = (int)threadIdx.x + l * THREADS;
            const int m = m0 + e / BK, k = k0 + e % BK;
            a_reg[l] = (m < F && k < Kdim) ? w[m * Kdim + k] : T(0);
        }
        // The strip visits k0, k0+1, ... in order, so (c, ky, kx) and the tap's offset are
        // stepped, never divided; all offsets stay 32-bit inside one image.
#pragma unroll
        for (int kk = 0; kk < BK; ++kk) {
            const int ih = ih0 + ky, iw = iw0 + kx;
            const bool inside = c < C && (unsigned)ih < (unsigned)H && (unsigned)iw < (unsigned)W;
            b_reg[kk] = inside ? x_image[pixel_offset + tap_offset] : T(0);
            ++kx;
            ++tap_offset;
            if (kx == K) {
                kx = 0;
                tap_offset += row_jump;
                if (++ky == K) {
                    ky = 0;
                    ++c;
                    tap_offset += channel_jump;
                }
            }
        }
    }
};

// y[img, f, oh, ow] = sum_k w[f, k] x_window[k] (+ b[f]) (+ residual[img, f, oh, ow])
// (then max(0, .) when relu != 0).
template <typename T, typename Tile>
__global__ void __launch_bounds__(Tile::THREADS, Tile::MIN_BLOCKS)
conv2d_forward(const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ b,
               const T* __restrict__ residual, T* __restrict__ y, int has_bias, int has_residual,
               int relu, int N, int C, int H, int W, int F, int K, int stride, int pad, int Ho,
               int Wo) {
    using Math = TileMath<Tile>;
    const ConvShape s = {N, C, H, W, F, K, stride, pad, Ho, Wo};
    const int n0 = blockIdx.x * Tile::BN, m0 = blockIdx.y * Tile::BM;
    const FastDiv div_howo(Ho * Wo), div_wo(Wo);
    ForwardLoader<T, Tile> loader(x, w, s, m0, n0, div_howo, div_wo);
    T acc[Math::ROWS][Math::COLS];
    Math::mainloop(loader, 0, C * K * K, acc);

    const int pixels = N * Ho * Wo, howo = Ho * Wo;
#pragma unroll
    for (int j = 0; j < Math::COLS; ++j) {
        const int n = n0 + Math::col(j);
        if (n >= pixels)
            continue;
        int hw;
        const int img = div_howo.divmod(n, &hw);
#pragma unroll
        for (int i = 0; i < Math::ROWS; ++i) {
            const int f = m0 + Math::row(i);
            if (f >= F)
                continue;
            const i64 at = ((i64)img * F + f) * howo + hw;
            T v = acc[i][j] + (has_bias ? b[f] : T(0));
            if (has_residual)
                v += residual[at];
            if (relu && v < T(0))
                v = T(0);
            y[at] = v;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Grad input: A[c][(f,ky,kx)] = w[f, c, ky, kx]; B column n = input pixel (img, ih, iw).

template <typename T, typename Tile>
struct GradInputLoader : PixelColumnStage<T, Tile> {
    using Stage = PixelColumnStage<T, Tile>;
    using Stage::BM, Stage::BK, Stage::THREADS, Stage::A_LOADS, Stage::a_reg, Stage::b_reg;

    const T* w;
    int C, KK, Kdim, m0;
    FastDiv div_kk;
    // This thread's input pixel and where its K-strip has got to: k = (f * K + ky) * K + kx.
    const T* gy_image;    // gy[img]
    int plane_offset;     // f * Ho * Wo
    int th, tw;           // ih + pad, iw + pad (output oh sees row th when oh*s + ky == th);
                          // th = -2^30 past the last pixel
    int f, ky, kx;
    int F, K, stride, Ho, Wo;
    FastDiv div_stride;

    __device__ GradInputLoader(const T* gy_, const T* w_, const ConvShape& s, int m0_, int n0,
                               const FastDiv& div_hw, const FastDiv& div_w)
        : w(w_), C(s.C), KK(s.K * s.K), Kdim(s.F * s.K * s.K), m0(m0_), div_kk(s.K * s.K),
          plane_offset(0), f(0), ky(0), kx(0), F(s.F), K(s.K), stride(s.stride), Ho(s.Ho),
          Wo(s.Wo), div_stride(s.stride) {
        const int n = n0 + (int)threadIdx.x;
        int img = 0, ih = 0, iw = 0, hw = 0;
        if (n < s.N * s.H * s.W) {
            img = div_hw.divmod(n, &hw);
            ih = div_w.divmod(hw, &iw);
        } else {
            ih = -(1 << 30);   // no tap of a column past the end hits an output pixel
        }
        gy_image = gy_ + (i64)img * s.F * s.Ho * s.Wo;
        th = ih + s.pad;
        tw = iw + s.pad;
    }

    __device__ __forceinline__ void fetch(int k0) {
#pragma unroll
        for (int l = 0; l < A_LOADS; ++l) {
            const int e = (int)threadIdx.x + l * THREADS;
            const int c = m0 + e / BK, k = k0 + e % BK;
            T a = T(0);
            if (c < C && k < Kdim) {
                int tap;   // ky * K + kx
                const int filter = div_kk.divmod(k, &tap);
                a = w[(filter * C + c) * KK + tap];
            }
            a_reg[l] = a;
        }
#pragma unroll
        for (int kk = 0; kk < BK; ++kk) {
            const int oh_s = th - ky, ow_s = tw - kx;   // oh * stride, ow * stride if a tap hits
            const int oh = div_stride.div(max_int(oh_s, 0)), ow = div_stride.div(max_int(ow_s, 0));
            const bool hit = f < F && oh_s >= 0 && ow_s >= 0 && oh * stride == oh_s &&
                             ow * stride == ow_s && oh < Ho && ow < Wo;
            b_reg[kk] = hit ? gy_image[plane_offset + oh * Wo + ow] : T(0);
            if (++kx == K) {
                kx = 0;
                if (++ky == K) {
                    ky = 0;
                    ++f;
                    plane_offset += Ho * Wo;
                }
            }
        }
    }
};

// gx[img, c, ih, iw] = sum_{f, ky, kx} w[f, c, ky, kx] gy[img, f, (ih+p-ky)/s, (iw+p-kx)/s]
// over the taps where both divisions are exact and land inside the output.
template <typename T, typename Tile>
__global__ void __launch_bounds__(Tile::THREADS, Tile::MIN_BLOCKS)
conv2d_backward_input(const T* __restrict__ gy, const T* __restrict__ w, T* __restrict__ gx,
                      int N, int C, int H, int W, int F, int K, int stride, int pad, int Ho,
                      int Wo) {
    using Math = TileMath<Tile>;
    const ConvShape s = {N, C, H, W, F, K, stride, pad, Ho, Wo};
    const int n0 = blockIdx.x * Tile::BN, m0 = blockIdx.y * Tile::BM;
    const FastDiv div_hw(H * W), div_w(W);
    GradInputLoader<T, Tile> loader(gy, w, s, m0, n0, div_hw, div_w);
    T acc[Math::ROWS][Math::COLS];
    Math::mainloop(loader, 0, F * K * K, acc);

    const int pixels = N * H * W, hw_size = H * W;
#pragma unroll
    for (int j = 0; j < Math::COLS; ++j) {
        const int n = n0 + Math::col(j);
        if (n >= pixels)
            continue;
        int hw;
        const int img = div_hw.divmod(n, &hw);
#pragma unroll
        for (int i = 0; i < Math::ROWS; ++i) {
            const int c = m0 + Math::row(i);
            if (c < C)
                gx[((i64)img * C + c) * hw_size + hw] = acc[i][j];
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Grad weight: A[f][p] = gy[img, f, oh, ow], B[p][(c,ky,kx)] = x window element, p = (img, oh, ow).
// The reduction axis is the pixels, so threads load with p varying fastest: the BK threads that
// share a row read BK consecutive pixels, and each thread decodes one pixel per tile.

template <typename T, typename Tile>
struct GradWeightLoader {
    static constexpr int BM = Tile::BM, BN = Tile::BN, BK = Tile::BK, THREADS = Tile::THREADS;
    static constexpr int STEP = THREADS / BK;   // rows (columns) between one thread's loads
    static constexpr int A_LOADS = BM / STEP;
    static constexpr int B_LOADS = BN / STEP;
    static_assert(THREADS % BK == 0 && BM % STEP == 0 && BN % STEP == 0, "tiles split evenly");

    const T* gy;
    const T* x;
    int F, C, H, W, stride, pad, Wo, howo, m0, k_end;
    FastDiv div_howo, div_wo;
    // This thread's B columns (c, ky, kx), fixed for the whole reduction.
    int column_channel[B_LOADS];   // c * H * W
    int column_ky[B_LOADS], column_kx[B_LOADS];
    bool column_ok[B_LOADS];
    T a_reg[A_LOADS];
    T b_reg[B_LOADS];

    __device__ GradWeightLoader(const T* gy_, const T* x_, const ConvShape& s, int m0_, int n0,
                                int k_end_)
        : gy(gy_), x(x_), F(s.F), C(s.C), H(s.H), W(s.W), stride(s.stride), pad(s.pad),
          Wo(s.Wo), howo(s.Ho * s.Wo), m0(m0_), k_end(k_end_), div_howo(s.Ho * s.Wo),
          div_wo(s.Wo) {
        const FastDiv div_kk(s.K * s.K), div_k(s.K);
#pragma unroll
        for (int l = 0; l < B_LOADS; ++l) {
            const int n = n0 + (int)threadIdx.x / BK + l * STEP;
            column_ok[l] = n < s.C * s.K * s.K;
            int c = 0, tap = 0, ky = 0, kx = 0;
            if (column_ok[l]) {
                c = div_kk.divmod(n, &tap);
                ky = div_k.divmod(tap, &kx);
            }
            column_channel[l] = c * s.H * s.W;
            column_ky[l] = ky;
            column_kx[l] = kx;
        }
    }

    __device__ __forceinline__ void fetch(int k0) {
        const int p = k0 + (int)threadIdx.x % BK;
        const bool pixel_ok = p < k_end;
        int img = 0, hw = 0, oh = 0, ow = 0;
        if (pixel_ok) {
            img = div_howo.divmod(p, &hw);
            oh = div_wo.divmod(hw, &ow);
        }
        const T* gy_image = gy + (i64)img * F * howo;
        const T* x_image = x + (i64)img * C * H * W;
#pragma unroll
        for (int l = 0; l < A_LOADS; ++l) {
            const int f = m0 + (int)threadIdx.x / BK + l * STEP;
            a_reg[l] = (pixel_ok && f < F) ? gy_image[f * howo + hw] : T(0);
        }
        const int ih0 = oh * stride - pad, iw0 = ow * stride - pad;
#pragma unroll
        for (int l = 0; l < B_LOADS; ++l) {
            const int ih = ih0 + column_ky[l], iw = iw0 + column_kx[l];
            const bool inside = pixel_ok && column_ok[l] && (unsigned)ih < (unsigned)H &&
                                (unsigned)iw < (unsigned)W;
            b_reg[l] = inside ? x_image[column_channel[l] + ih * W + iw] : T(0);
        }
    }

    template <typename Convert, int PITCH_A, int PITCH_B>
    __device__ __forceinline__ void stash(T (&As)[BK][PITCH_A], T (&Bs)[BK][PITCH_B]) const {
        const int k = (int)threadIdx.x % BK, first = (int)threadIdx.x / BK;
#pragma unroll
        for (int l = 0; l < A_LOADS; ++l)
            As[k][first + l * STEP] = Convert::apply(a_reg[l]);
#pragma unroll
        for (int l = 0; l < B_LOADS; ++l)
            Bs[k][first + l * STEP] = Convert::apply(b_reg[l]);
    }
};

// partial[z, f, (c,ky,kx)] = sum over pixels p of split z of gy[img, f, oh, ow] * x_window.
template <typename T, typename Tile>
__global__ void __launch_bounds__(Tile::THREADS, Tile::MIN_BLOCKS)
conv2d_backward_weight(const T* __restrict__ gy, const T* __restrict__ x, T* __restrict__ partial,
                       int k_chunk, int N, int C, int H, int W, int F, int K, int stride, int pad,
                       int Ho, int Wo) {
    using Math = TileMath<Tile>;
    const ConvShape s = {N, C, H, W, F, K, stride, pad, Ho, Wo};
    const int n0 = blockIdx.x * Tile::BN, m0 = blockIdx.y * Tile::BM;
    const int pixels = N * Ho * Wo, columns = C * K * K;
    const int k_begin = blockIdx.z * k_chunk;
    const i64 chunk_end = (i64)k_begin + k_chunk;
    const int k_end = chunk_end < pixels ? (int)chunk_end : pixels;
    GradWeightLoader<T, Tile> loader(gy, x, s, m0, n0, k_end);
    T acc[Math::ROWS][Math::COLS];
    Math::mainloop(loader, k_begin, k_end, acc);

    T* out = partial + (i64)blockIdx.z * F * columns;
#pragma unroll
    for (int i = 0; i < Math::ROWS; ++i) {
        const int f = m0 + Math::row(i);
        if (f >= F)
            continue;
#pragma unroll
        for (int j = 0; j < Math::COLS; ++j) {
            const int n = n0 + Math::col(j);
            if (n < columns)
                out[(i64)f * columns + n] = acc[i][j];
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Grad bias and the split reduction.

// partial[z, f] = sum of gy[img, f, :, :] over images [z * images_per_split, (z+1) * ...).
template <typename T>
__global__ void conv2d_backward_bias(const T* __restrict__ gy, T* __restrict__ partial, int N,
                                     int F, int howo, int images_per_split) {
    const int f = blockIdx.x, z = blockIdx.y;
    const int img_begin = z * images_per_split;
    const i64 split_end = (i64)img_begin + images_per_split;
    const int img_end = split_end < N ? (int)split_end : N;
    T sum = T(0);
    for (int img = img_begin; img < img_end; ++img) {
        const T* plane = gy + ((i64)img * F + f) * howo;
        for (int hw = threadIdx.x; hw < howo; hw += blockDim.x)
            sum += plane[hw];
    }
    sum = block_sum(sum);
    if (threadIdx.x == 0)
        partial[(i64)z * F + f] = sum;
}

// out[i] = sum_{z < splits} partial[z * count + i], added in order z = 0, 1, ... (deterministic).
template <typename T>
__global__ void reduce_splits(const T* __restrict__ partial, T* __restrict__ out, int splits,
                              i64 count) {
    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < count;
         i += (i64)gridDim.x * blockDim.x) {
        T sum = T(0);
        for (int z = 0; z < splits; ++z)
            sum += partial[(i64)z * count + i];
        out[i] = sum;
    }
}

// ---------------------------------------------------------------------------------------------
// Explicit instantiations: what NVRTC's name expressions and nvcc's CI compile refer to.

// forward and grad input: tiles where every thread owns one pixel column (THREADS == BN).
#define MINIGAN_PIXEL_TILE(T, Tile)                                                               \
    template __global__ void conv2d_forward<T, Tile>(const T*, const T*, const T*, const T*, T*,  \
                                                     int, int, int, int, int, int, int, int, int, \
                                                     int, int, int, int);                         \
    template __global__ void conv2d_backward_input<T, Tile>(const T*, const T*, T*, int, int, int, \
                                                            int, int, int, int, int, int, int);
// grad weight: any tile.
#define MINIGAN_WEIGHT_TILE(T, Tile)                                                              \
    template __global__ void conv2d_backward_weight<T, Tile>(const T*, const T*, T*, int, int, int,\
                                                             int, int, int, int, int, int, int,   \
                                                             int);

MINIGAN_PIXEL_TILE(float, TileBig)
MINIGAN_PIXEL_TILE(float, TileSmallM)
MINIGAN_PIXEL_TILE(double, TileBig)
MINIGAN_PIXEL_TILE(double, TileSmallM)
MINIGAN_PIXEL_TILE(float, Tf32<TileBig>)
MINIGAN_PIXEL_TILE(float, Tf32<TileSmallM>)
MINIGAN_WEIGHT_TILE(float, TileBig)
MINIGAN_WEIGHT_TILE(float, TileSmallM)
MINIGAN_WEIGHT_TILE(float, TileSmallN)
MINIGAN_WEIGHT_TILE(double, TileBig)
MINIGAN_WEIGHT_TILE(double, TileSmallM)
MINIGAN_WEIGHT_TILE(double, TileSmallN)
MINIGAN_WEIGHT_TILE(float, Tf32<TileBig>)
MINIGAN_WEIGHT_TILE(float, Tf32<TileSmallM>)
MINIGAN_WEIGHT_TILE(float, Tf32<TileSmallN>)

template __global__ void conv2d_backward_bias<float>(const float*, float*, int, int, int, int);
template __global__ void conv2d_backward_bias<double>(const double*, double*, int, int, int, int);
template __global__ void reduce_splits<float>(const float*, float*, int, i64);
template __global__ void reduce_splits<double>(const double*, double*, int, i64);
