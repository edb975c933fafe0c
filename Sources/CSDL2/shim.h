// SDL2, SDL2_image and SDL2_ttf for the Viewer module (only built with the `Viewer` trait).
#ifndef METARL_CSDL2_SHIM_H
#define METARL_CSDL2_SHIM_H

#include <SDL.h>
#include <SDL_image.h>
#include <SDL_ttf.h>

// Macros with arguments or casts do not import into Swift; these are their values.
static const int METARL_SDL_WINDOWPOS_CENTERED = SDL_WINDOWPOS_CENTERED;
static const Uint32 METARL_SDL_PIXELFORMAT_RGBA32 = SDL_PIXELFORMAT_RGBA32;

#endif
